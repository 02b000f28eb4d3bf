import { expect } from 'chai';
import net from 'node:net';
import path from 'node:path';
import { makeTempDir } from '../../support/daemon';
import { ALL, withStore } from '../../support/store';
import { spawnDaemon } from '../../support/spawn';
import { buildCallback } from '../../support/skypay';

describe('process lifecycle (built daemon)', function () {
  this.timeout(60_000);

  it('on SIGTERM stops accepting, finishes the request in flight with a 1000, closes the database and exits 0', async () => {
    const dbPath = path.join(makeTempDir(), 'sigterm.db');
    const d = await spawnDaemon({ server: { host: '127.0.0.1', port: 0 }, store: { path: dbPath } });
    const { port } = new URL(d.baseUrl);
    const body = JSON.stringify(buildCallback({ payType: '2' }));
    const half = Math.floor(body.length / 2);

    // A callback whose body is still arriving when SIGTERM lands.
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    let reply = '';
    socket.on('data', (c: Buffer) => {
      reply += c.toString('utf8');
    });
    const closed = new Promise((r) => socket.once('close', r));
    socket.write(
      `POST /callbacks/skypay HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
    );
    socket.write(body.slice(0, half));

    d.child.kill('SIGTERM');
    // New connections are refused once draining has begun.
    await expectRefused(Number(port));
    // The rest of the body, the connection left open for the answer (a half-close before it would let the server
    // end the connection unanswered, whatever the store); the server closes it after answering, as it drains.
    socket.write(body.slice(half));
    await closed;
    expect(await d.exited).to.equal(0);
    expect(reply).to.match(/^HTTP\/1\.1 200/);
    expect(reply).to.contain('"responseCode":"1000"');
    expect(d.output()).to.contain('skyrelay stopped');

    // The database was closed cleanly: the WAL was checkpointed and the event is there.
    const count = await withStore(dbPath, async (store) => (await store.listEvents({ limit: ALL })).length);
    expect(count).to.equal(1);
  });

  it('refuses to start with an invalid configuration, naming the key, exit code 78', async () => {
    let err: Error | undefined;
    try {
      await spawnDaemon({ server: { port: 'eighty' } });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/server\.port: .*integer/);
  });
});

async function expectRefused(port: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', () => resolve(true));
    });
    if (refused) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the daemon kept accepting connections after SIGTERM');
}
