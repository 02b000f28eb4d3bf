import { expect } from 'chai';
import { fingerprint } from '../../../src/http/bearer';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { startReceiver, type Receiver, type RecordedRequest } from '../../support/receiver';
import { buildCallback, postCallback } from '../../support/skypay';
import { ALL } from '../../support/store';

const TOKEN = 'admin-destinations-token-0123456789';
const SECRET = `whsec_${Buffer.from('admin-destinations-signing-secr1').toString('base64')}`;

type Json = Record<string, unknown>;

const controlNumberOf = (r: RecordedRequest): string | undefined =>
  (r.json as { data?: { controlNumber?: string } } | undefined)?.data?.controlNumber;

/** The destination_state samples of one destination, by state: `{closed: 1, open: 0, paused: 0}`. */
async function stateGauge(t: TestDaemon, destination: string): Promise<Record<string, number>> {
  const res = await fetch(`${t.baseUrl}/metrics`);
  expect(res.status).to.equal(200);
  const found: Record<string, number> = {};
  for (const line of (await res.text()).split('\n')) {
    const m = /^skyrelay_destination_state\{destination="([^"]*)",state="([^"]*)"\} (\S+)$/.exec(line);
    if (m && m[1] === destination) found[m[2] ?? ''] = Number(m[3]);
  }
  return found;
}

describe('admin API: /admin/destinations, pause and resume; /metrics skyrelay_destination_state', function () {
  this.timeout(20_000);
  let t: TestDaemon;
  let hook: Receiver;
  let witness: Receiver;

  async function call(
    path: string,
    method = 'GET',
    token: string | null = TOKEN,
  ): Promise<{ status: number; body: Json }> {
    const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
    const res = await fetch(`${t.baseUrl}${path}`, { method, headers });
    return { status: res.status, body: (await res.json()) as Json };
  }
  const listed = async (name: string): Promise<Json | undefined> =>
    ((await call('/admin/destinations')).body['items'] as Json[]).find((d) => d['name'] === name);
  const postPayout = async (): Promise<string> => {
    const body = buildCallback({ payType: '2' });
    expect((await postCallback(t.callbackUrl, body)).json?.['responseCode']).to.equal('1000');
    return String(body['controlNumber']);
  };

  before(async () => {
    [hook, witness] = await Promise.all([startReceiver(), startReceiver()]);
    t = await startTestDaemon({
      admin: { token: TOKEN },
      destinations: {
        hook: { type: 'webhook', url: `${hook.url}/in`, secret: SECRET },
        witness: { type: 'webhook', url: `${witness.url}/in`, secret: SECRET },
      },
      rules: [{ name: 'feed', to: ['hook', 'witness'] }],
      // A long poll: after a resume the backlog must go out because the API wakes the worker, not by the poll.
      delivery: { pollIntervalMs: 60_000 },
    });
    await postPayout();
    await Promise.all([hook.waitFor(1), witness.waitFor(1)]);
  });
  after(async () => {
    await t.stop();
    await Promise.all([hook.close(), witness.close()]);
  });

  it('needs the admin token for every route, and changes nothing without it', async () => {
    for (const token of [null, 'wrong-token-wrong-token-0000000', `${TOKEN}x`]) {
      for (const [path, method] of [
        ['/admin/destinations', 'GET'],
        ['/admin/destinations/hook/pause', 'POST'],
        ['/admin/destinations/hook/resume', 'POST'],
        ['/admin/destinations/nope/pause', 'POST'],
      ] as const) {
        const res = await call(path, method, token);
        expect(res.status, `${method} ${path} with ${String(token)}`).to.equal(401);
        expect(JSON.stringify(res.body)).not.to.contain(TOKEN);
      }
    }
    expect(await t.daemon.store.readBreakers()).to.deep.equal([]);
    expect(await listed('hook')).to.include({ state: 'closed' });
  });

  it('GET lists each destination; pause records who from the token, holds sends, shows in /metrics; resume sends', async () => {
    const list = await call('/admin/destinations');
    expect(list.status).to.equal(200);
    const items = list.body['items'] as Json[];
    expect(items.map((d) => d['name'])).to.deep.equal(['hook', 'witness']);
    expect(items[0]).to.include({ type: 'webhook', state: 'closed', backlog: 0, dead: 0, pausedBy: null });
    expect(items[0]?.['lastSuccessAt']).to.be.a('string');
    expect(await stateGauge(t, 'hook')).to.deep.equal({ closed: 1, open: 0, paused: 0 });

    const paused = await call('/admin/destinations/hook/pause', 'POST');
    expect(paused).to.deep.equal({
      status: 200,
      body: { destination: 'hook', state: 'paused', changed: true, backlog: 0, alert: null },
    });
    const by = `admin token ${fingerprint(TOKEN)}`;
    expect(await listed('hook')).to.include({ state: 'paused', reason: 'manual', pausedBy: by });
    expect(JSON.stringify((await call('/admin/destinations')).body)).not.to.contain(TOKEN);
    expect(await stateGauge(t, 'hook')).to.deep.equal({ closed: 0, open: 0, paused: 1 });
    expect(await stateGauge(t, 'witness')).to.deep.equal({ closed: 1, open: 0, paused: 0 });
    const again = await call('/admin/destinations/hook/pause', 'POST');
    expect(again.body).to.include({ state: 'paused', changed: false });

    // Taken, sent to the witness, not to hook.
    const sent = [await postPayout(), await postPayout()];
    await witness.waitFor(3);
    const waiting = await t.daemon.store.listDeliveries({ destination: 'hook', state: 'pending', limit: ALL });
    expect(waiting.map((d) => d.controlNumber).sort()).to.deep.equal([...sent].sort());
    expect(hook.requests).to.have.length(1);
    expect(await listed('hook')).to.include({ state: 'paused', backlog: 2 });

    const resumed = await call('/admin/destinations/hook/resume', 'POST');
    expect(resumed).to.deep.equal({
      status: 200,
      body: { destination: 'hook', state: 'closed', changed: true, backlog: 2, alert: null },
    });
    await hook.waitFor((rs) => sent.every((cn) => rs.some((r) => controlNumberOf(r) === cn)), 10_000);
    expect(await stateGauge(t, 'hook')).to.deep.equal({ closed: 1, open: 0, paused: 0 });
    await waitUntil(async () => (await listed('hook'))?.['backlog'] === 0, 'hook to have no backlog');
    expect(await listed('hook')).to.include({ state: 'closed', pausedBy: null, reason: null });
  });

  it('404 for an unknown destination, 409 for a resume with nothing to resume, nothing recorded', async () => {
    for (const verb of ['pause', 'resume']) {
      const res = await call(`/admin/destinations/nope/${verb}`, 'POST');
      expect(res.status, verb).to.equal(404);
      expect(String(res.body['error'] ?? res.body['message'])).to.contain('no destination "nope"');
    }
    const closed = await call('/admin/destinations/witness/resume', 'POST');
    expect(closed.status).to.equal(409);
    expect(JSON.stringify(closed.body)).to.contain('not paused or open');
    expect((await t.daemon.store.readBreakers()).map((b) => b.destination)).not.to.include('nope');
    expect(await stateGauge(t, 'nope')).to.deep.equal({});
  });
});
