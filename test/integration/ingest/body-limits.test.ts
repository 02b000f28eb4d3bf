import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { openRaw, postHead, type RawConnection } from '../../support/raw-socket';
import { buildCallback, postCallback } from '../../support/skypay';

describe('body limits: size, time, memory and connections (real daemon, raw sockets)', function () {
  this.timeout(10_000);
  let t: TestDaemon;
  let port: number;
  const opened: RawConnection[] = [];
  const raw = async (request?: string | Buffer): Promise<RawConnection> => {
    const c = await openRaw(port, request);
    opened.push(c);
    return c;
  };
  const path = (): string => t.config.skypay.path;

  before(async () => {
    t = await startTestDaemon({
      server: { bodyLimit: '256kb', bodyTimeoutMs: 300, maxBodyMemory: '300kb', maxConnections: 6 },
    });
    port = t.daemon.address.port;
  });
  afterEach(() => {
    for (const c of opened.splice(0)) c.socket.destroy();
  });
  after(async () => {
    await t.stop();
  });

  it('closes connections beyond server.maxConnections at once, and takes new ones when some close', async () => {
    // First in this file: no other connection is open yet. Each of the six is answered, so each was accepted.
    const idle = await Promise.all(Array.from({ length: 6 }, () => raw('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')));
    await Promise.all(idle.map((c) => c.received('HTTP/1.1 200 OK')));
    const extra = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(await extra.closed).to.equal('');
    for (const c of idle) c.socket.destroy();
    await Promise.all(idle.map((c) => c.closed));
    await waitUntil(
      async () =>
        (await fetch(`${t.baseUrl}/healthz`, { headers: { connection: 'close' } }).catch(() => undefined))?.status ===
        200,
      'a new connection to be taken once the others closed',
      3_000,
    );
  });

  it('answers a Content-Length over server.bodyLimit with 413 before the body is sent, and closes', async () => {
    const c = await raw(postHead(path(), 10 * 1024 * 1024));
    const answer = await c.closed;
    expect(answer).to.match(/^HTTP\/1\.1 413 /);
    expect(answer).to.match(/connection: close/i);
    expect(answer).to.contain('server.bodyLimit');
  });

  it('answers a body that stalls with 408 after server.bodyTimeoutMs, and closes the connection', async () => {
    const started = Date.now();
    const body = JSON.stringify(buildCallback());
    const c = await raw(postHead(path(), body.length) + body.slice(0, 40));
    const answer = await c.closed;
    const ms = Date.now() - started;
    expect(answer).to.match(/^HTTP\/1\.1 408 /);
    expect(answer)
      .to.match(/connection: close/i)
      .and.to.contain('server.bodyTimeoutMs');
    expect(ms).to.be.within(250, 2_000);
  });

  it('reads large bodies only while they fit server.maxBodyMemory (503 unread), small callbacks always', async () => {
    const big = 200 * 1024;
    const first = await raw(`${postHead(path(), big)}{"a":"`);
    // A small callback is read while the large one holds most of the budget (answered after it: it has arrived).
    expect((await postCallback(t.callbackUrl, buildCallback())).json?.['responseCode']).to.equal('1000');
    const second = await raw(postHead(path(), big));
    expect(await second.closed)
      .to.match(/^HTTP\/1\.1 503 /)
      .and.to.contain('too many large bodies');
    first.socket.destroy();
  });
});
