import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { replies, startReceiver, type Receiver, type RecordedRequest } from '../../support/receiver';
import { buildCallback, postCallback } from '../../support/skypay';
import { ALL } from '../../support/store';
import { runCli } from './run-cli';

const SECRET = `whsec_${Buffer.from('cli-destinations-signing-secret1').toString('base64')}`;
const POLL_MS = 100;
const TIME = String.raw`\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ`;

type Json = Record<string, unknown>;

const controlNumberOf = (r: RecordedRequest): string | undefined =>
  (r.json as { data?: { controlNumber?: string } } | undefined)?.data?.controlNumber;

describe('skyrelay destinations, destination pause|resume (the built CLI on a running daemon’s store)', function () {
  this.timeout(30_000);
  let t: TestDaemon;
  let hook: Receiver;
  let witness: Receiver;
  let flaky: Receiver;
  let config: Record<string, unknown>;

  const cli = (...args: string[]) => runCli(args, config);
  const listJson = async (): Promise<Map<string, Json>> => {
    const r = await cli('destinations', '--json');
    expect(r.code, r.stderr).to.equal(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Json);
    return new Map(rows.map((row) => [String(row['name']), row]));
  };
  const postPayout = async (): Promise<string> => {
    const body = buildCallback({ payType: '2' });
    expect((await postCallback(t.callbackUrl, body)).json?.['responseCode']).to.equal('1000');
    return String(body['controlNumber']);
  };

  before(async () => {
    [hook, witness, flaky] = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
    flaky.respondWith(replies.unavailable('flaky is down'));
    const overrides = {
      destinations: {
        hook: { type: 'webhook', url: `${hook.url}/in`, secret: SECRET },
        witness: { type: 'webhook', url: `${witness.url}/in`, secret: SECRET },
        flaky: { type: 'webhook', url: `${flaky.url}/in`, secret: SECRET },
      },
      rules: [{ name: 'feed', to: ['hook', 'witness', 'flaky'] }],
      // flaky's retry waits out the whole test: its one failed attempt is what the listing shows.
      delivery: { pollIntervalMs: POLL_MS, initialBackoffMs: 600_000, maxBackoffMs: 600_000 },
    };
    t = await startTestDaemon(overrides);
    config = { ...overrides, server: { host: '127.0.0.1', port: t.daemon.address.port }, store: { path: t.dbPath } };
    await postPayout();
    await Promise.all([hook.waitFor(1), witness.waitFor(1), flaky.waitFor(1)]);
    await waitUntil(async () => {
      const done = await t.daemon.store.listDeliveries({ limit: ALL });
      return done.filter((d) => d.state === 'delivered').length === 2 && done.some((d) => d.lastStatus === 503);
    }, 'the first attempts recorded');
  });
  after(async () => {
    await t.stop();
    await Promise.all([hook.close(), witness.close(), flaky.close()]);
  });

  it('destinations: state, backlog, last success and last error, as a table and as JSON lines', async () => {
    const text = await cli('destinations');
    expect(text.code, text.stderr).to.equal(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).to.match(/^NAME +TYPE +STATE +BACKLOG +DEAD +LAST SUCCESS +LAST ERROR$/);
    expect(lines).to.have.length(4);
    expect(lines.find((l) => l.startsWith('hook '))).to.match(new RegExp(`^hook +webhook +closed +0 +0 +${TIME} +-$`));
    expect(lines.find((l) => l.startsWith('flaky '))).to.match(
      new RegExp(`^flaky +webhook +closed +1 +0 +- +${TIME} .*flaky is down`),
    );

    const rows = await listJson();
    expect([...rows.keys()]).to.deep.equal(['flaky', 'hook', 'witness']);
    expect(rows.get('hook')).to.include({ type: 'webhook', state: 'closed', backlog: 0, dead: 0, lastError: null });
    expect(Date.parse(String(rows.get('hook')?.['lastSuccessAt']))).to.be.within(Date.now() - 60_000, Date.now());
    expect(rows.get('flaky')).to.include({
      state: 'closed',
      backlog: 1,
      lastSuccessAt: null,
      lastErrorStatus: 503,
      failures: 1,
    });
    expect(String(rows.get('flaky')?.['lastError'])).to.contain('flaky is down');
    expect(rows.get('flaky')?.['breaker']).to.deep.equal({ failures: 10, probeIntervalMs: 30_000 });
  });

  it('destination pause NAME: the daemon still takes deliveries for it and sends none; resume NAME sends them', async () => {
    const paused = await cli('destination', 'pause', 'hook');
    expect(paused.code, paused.stderr).to.equal(0);
    expect(paused.stdout).to.equal(
      'hook paused: nothing is sent to it until `skyrelay destination resume hook`; 0 deliveries waiting\n',
    );
    const pausedAt = Date.now();
    const again = await cli('destination', 'pause', 'hook');
    expect([again.code, again.stdout]).to.deep.equal([0, 'hook was already paused\n']);

    // Callbacks over several of the daemon's polls (its breakers read the store's state each poll): each is taken
    // and reaches the witness, and hook gets none of them.
    const sent: string[] = [];
    const before = witness.requests.length;
    while (Date.now() - pausedAt < 4 * POLL_MS || sent.length < 3) {
      sent.push(await postPayout());
      await witness.waitFor(before + sent.length);
    }
    expect(hook.requests, 'sends to a paused destination').to.have.length(1);
    const waiting = await t.daemon.store.listDeliveries({ destination: 'hook', state: 'pending', limit: ALL });
    expect(waiting.map((d) => [d.controlNumber, d.attempts]).sort()).to.deep.equal(sent.map((cn) => [cn, 0]).sort());

    const listed = (await listJson()).get('hook');
    expect(listed).to.include({ state: 'paused', reason: 'manual', backlog: sent.length, nextProbeAt: null });
    expect(String(listed?.['pausedBy'])).to.match(/^cli as OS user \S+.* on \S+$/);
    expect(Date.parse(String(listed?.['since']))).to.be.within(pausedAt - 10_000, pausedAt);
    const table = await cli('destinations');
    expect(table.stdout).to.match(
      new RegExp(`^hook +webhook +paused \\(by cli as OS user .+\\) since ${TIME} +${sent.length} +0 `, 'm'),
    );

    const resumed = await cli('destination', 'resume', 'hook');
    expect(resumed.code, resumed.stderr).to.equal(0);
    expect(resumed.stdout).to.equal(`hook resumed: ${sent.length} deliveries waiting go out oldest first\n`);
    await hook.waitFor((rs) => sent.every((cn) => rs.some((r) => controlNumberOf(r) === cn)), 10_000);
    // Pending or in flight: a receipt comes before its attempt is recorded.
    await waitUntil(async () => {
      const left = await t.daemon.store.listDeliveries({ destination: 'hook', limit: ALL });
      return left.every((d) => d.state === 'delivered');
    }, 'every delivery to hook delivered');
    expect((await listJson()).get('hook')).to.include({ state: 'closed', reason: null, pausedBy: null, backlog: 0 });
  });

  it('an unknown NAME, a missing one, or nothing to resume: a clear error, a non-zero exit, nothing changed', async () => {
    const [pause, resume, closed] = await Promise.all([
      cli('destination', 'pause', 'nope'),
      cli('destination', 'resume', 'nope'),
      cli('destination', 'resume', 'witness'),
    ]);
    for (const r of [pause, resume]) {
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.match(
        /^skyrelay: no destination "nope" \(configured: (hook|witness|flaky)(, (hook|witness|flaky)){2}\)$/m,
      );
    }
    expect(closed.code).to.equal(1);
    expect(closed.stderr).to.match(/^skyrelay: destination "witness" is not paused or open: nothing to resume$/m);
    const missing = await cli('destination', 'pause');
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.match(/missing required argument 'name'/);
    expect((await t.daemon.store.readBreakers()).map((b) => b.destination)).not.to.include('nope');
    const rows = await listJson();
    expect([...rows.values()].map((r) => r['state'])).to.deep.equal(['closed', 'closed', 'closed']);
  });
});
