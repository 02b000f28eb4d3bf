import { expect } from 'chai';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { makeTempDir } from '../../support/daemon';
import { startReceiver } from '../../support/receiver';
import { spawnDaemon } from '../../support/spawn';
import { buildCallback, postCallback } from '../../support/skypay';

const ENV_SECRET = `whsec_${Buffer.from('secret-from-the-environment-42').toString('base64')}`;

async function startupFailure(config: Record<string, unknown>): Promise<string> {
  try {
    const d = await spawnDaemon(config);
    d.child.kill('SIGKILL');
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the daemon to refuse its configuration');
}

describe('destination configuration (built daemon)', function () {
  this.timeout(30_000);

  it('takes a webhook secret from the environment (custom-environment-variables.json) and signs with it', async () => {
    const consumer = await startReceiver();
    const d = await spawnDaemon(
      {
        server: { host: '127.0.0.1', port: 0 },
        store: { path: path.join(makeTempDir(), 'env.db') },
        destinations: { ledger: { type: 'webhook', url: `${consumer.url}/hooks` } },
        rules: [{ name: 'ledger-feed', to: ['ledger'] }],
      },
      { SKYRELAY_LEDGER_SECRET: ENV_SECRET },
    );
    try {
      await postCallback(d.callbackUrl, buildCallback({ payType: '4', failDescription: 'closed' }));
      const [req] = await consumer.waitFor(1);
      expect(() =>
        new Webhook(ENV_SECRET).verify(req?.body ?? '', req?.headers as Record<string, string>),
      ).not.to.throw();
      expect(req?.body).not.to.contain(ENV_SECRET);
      expect(d.output()).not.to.contain(ENV_SECRET).and.not.to.contain(ENV_SECRET.slice(6));
    } finally {
      d.child.kill('SIGTERM');
      await d.exited;
      await consumer.close();
    }
  });

  it('refuses to start with a rule naming an unknown destination', async () => {
    const message = await startupFailure({
      destinations: { ledger: { type: 'webhook', url: 'https://ledger.internal/hooks', secret: ENV_SECRET } },
      rules: [{ name: 'feed', to: ['ledgr'] }],
    });
    expect(message).to.match(/rules\.0\.to: unknown destination "ledgr"/);
  });

  it('refuses a short webhook secret, a non-http URL and a bad regex, without echoing the secret', async () => {
    const weak = `whsec_${Buffer.from('too-short').toString('base64')}`;
    const message = await startupFailure({
      destinations: {
        weak: { type: 'webhook', url: 'https://ledger.internal/hooks', secret: weak },
        ftp: { type: 'webhook', url: 'ftp://ledger.internal/hooks', secret: ENV_SECRET },
      },
      rules: [{ name: 'bad', match: { failDescription: { regex: '(' } }, to: ['weak'] }],
    });
    expect(message).to.match(/destinations\.weak\.secret: .*24 bytes/);
    expect(message).to.match(/destinations\.ftp\.url: .*http/);
    expect(message).not.to.contain(weak).and.not.to.contain(ENV_SECRET);
  });
});
