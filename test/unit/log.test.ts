import { expect } from 'chai';
import { Writable } from 'node:stream';
import { createFlatLogger, createLogger } from '../../src/log';

function capture(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe('log redaction', () => {
  it('redacts secret keys at the top level and one level down', () => {
    const { lines, stream } = capture();
    createLogger({ level: 'info', destination: stream }).info(
      {
        authentication: 'partner-key',
        partner: { secret: 'whsec_x', name: 'ops' },
        ledger: { secrets: [{ secret: 'whsec_y' }], privateKey: 'whsk_z', signing: 'ed25519' },
      },
      'm',
    );
    expect(lines[0]).to.include({ authentication: '***' });
    expect(lines[0]?.['partner']).to.deep.equal({ secret: '***', name: 'ops' });
    expect(lines[0]?.['ledger']).to.deep.equal({ secrets: '***', privateKey: '***', signing: 'ed25519' });
  });

  it('keeps the top-level fence on the flat logger of accepted callbacks', () => {
    const { lines, stream } = capture();
    const flat = createFlatLogger(createLogger({ level: 'info', destination: stream }));
    flat.info(
      { outcome: 'stored', controlNumber: 'B1230000001', authentication: 'partner-key', url: 'https://x' },
      'm',
    );
    expect(lines[0]).to.include({
      outcome: 'stored',
      controlNumber: 'B1230000001',
      authentication: '***',
      url: '***',
      name: 'skyrelay',
    });
  });
});
