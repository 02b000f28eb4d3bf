import { expect } from 'chai';
import net from 'node:net';
import { startTestDaemon, type TestDaemon } from '../../support/daemon';
import { buildCallback, postCallback } from '../../support/skypay';
import { openSqliteFile } from '../../support/sqlite';

async function readiness(baseUrl: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${baseUrl}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('GET /readyz', function () {
  this.timeout(20_000);
  let t: TestDaemon;
  before(async () => {
    t = await startTestDaemon();
  });
  after(async () => {
    await t.stop();
  });

  it('answers 200 when started and able to write, while /healthz stays the liveness probe', async () => {
    expect(await readiness(t.baseUrl)).to.deep.equal({ status: 200, body: { status: 'ready' } });
    expect((await fetch(`${t.baseUrl}/healthz`)).status).to.equal(200);
  });

  it('answers 503 after a failed write while a probe write also fails, and recovers without traffic once writes work', async () => {
    // Real SQLite failures, injected with triggers on the same file from another connection.
    const admin = openSqliteFile(t.dbPath);
    try {
      admin.exec(`CREATE TRIGGER fail_events BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk is full'); END;
        CREATE TRIGGER fail_probe BEFORE UPDATE ON health_probe BEGIN SELECT RAISE(ABORT, 'disk is full'); END;
        CREATE TRIGGER fail_probe_insert BEFORE INSERT ON health_probe BEGIN SELECT RAISE(ABORT, 'disk is full'); END;`);
      const rejected = await postCallback(t.callbackUrl, buildCallback());
      expect(rejected.status).to.equal(503);
      const down = await readiness(t.baseUrl);
      expect(down.status).to.equal(503);
      expect(down.body).to.include({ status: 'unavailable' });
      expect(String(down.body['database'])).to.match(/^SQLITE_CONSTRAINT/);
      // Liveness is not readiness: the process and a read still work.
      expect((await fetch(`${t.baseUrl}/healthz`)).status).to.equal(200);
      admin.exec('DROP TRIGGER fail_probe; DROP TRIGGER fail_probe_insert;');
      expect((await readiness(t.baseUrl)).status).to.equal(200);
    } finally {
      admin.exec(
        'DROP TRIGGER IF EXISTS fail_events; DROP TRIGGER IF EXISTS fail_probe; DROP TRIGGER IF EXISTS fail_probe_insert;',
      );
      admin.close();
    }
    expect((await postCallback(t.callbackUrl, buildCallback())).json?.['responseCode']).to.equal('1000');
  });

  it('answers 503 while draining', async () => {
    const { port } = new URL(t.baseUrl);
    // A callback still arriving keeps the daemon draining; a readiness request already started is answered.
    const slow = net.connect(Number(port), '127.0.0.1');
    const probe = net.connect(Number(port), '127.0.0.1');
    await Promise.all([new Promise((r) => slow.once('connect', r)), new Promise((r) => probe.once('connect', r))]);
    const body = JSON.stringify(buildCallback());
    slow.write(
      `POST /callbacks/skypay HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    probe.write('GET /readyz HTTP/1.1\r\nHost: x\r\n');
    await new Promise((r) => setTimeout(r, 50));
    const stopping = t.stop();
    let answer = '';
    probe.on('data', (c: Buffer) => {
      answer += c.toString('utf8');
    });
    probe.write('Connection: close\r\n\r\n');
    await new Promise((r) => probe.once('close', r));
    slow.end(body);
    await stopping;
    expect(answer).to.match(/^HTTP\/1\.1 503/);
    expect(answer).to.contain('{"status":"draining"}');
  });
});
