import { expect } from 'chai';
import { startTestDaemon, waitUntil, type TestDaemon } from '../../support/daemon';
import { replies, startReceiver, type Receiver, type RecordedRequest, type Reply } from '../../support/receiver';
import { buildCallback, dealTimeFromNow, nextControlNumber, postCallback } from '../../support/skypay';
import { ALL, withStore } from '../../support/store';
import { runCli } from '../cli/run-cli';

const SECRET = `whsec_${Buffer.from('ordered-destinations-secret-0001').toString('base64')}`;
const TOKEN = 'admin-token-for-ordered-tests-0123';

/** What a webhook carried: its payout and status, or skyrelay's own event's type and data. */
interface Sent {
  type: string;
  controlNumber: string;
  status: string;
  data: Record<string, unknown>;
}

const sent = (r: RecordedRequest): Sent => {
  const body = r.json as { type: string; data: Record<string, unknown> };
  return {
    type: body.type,
    controlNumber: String(body.data['controlNumber'] ?? ''),
    status: String(body.data['status'] ?? ''),
    data: body.data,
  };
};
const statusesOf = (rs: readonly RecordedRequest[], cn: string) =>
  rs.map(sent).filter((s) => s.controlNumber === cn && s.type.startsWith('skypay.payout.'));

/**
 * One payout's statuses, posted one after the other as SkyPay sends them: upload, amended success, paid, a second
 * apart in dealTime (the payout's own order).
 */
async function postLifecycle(t: TestDaemon, cn: string, payTypes: readonly string[]): Promise<void> {
  let offset = -60_000;
  for (const payType of payTypes) {
    offset += 1_000;
    const res = await postCallback(
      t.callbackUrl,
      buildCallback({ controlNumber: cn, payType, dealTime: dealTimeFromNow(offset) }),
    );
    expect(res.json?.['responseCode'], res.text).to.equal('1000');
  }
}

/** A receiver's answers by payout and status: `plan(cn, status, nth)` for the nth request of that status (from 1). */
function answerBy(plan: (cn: string, status: string, nth: number) => Reply | undefined): Reply {
  const seen = new Map<string, number>();
  return replies.choose((r) => {
    const s = sent(r);
    const key = `${s.controlNumber}/${s.status}`;
    const nth = (seen.get(key) ?? 0) + 1;
    seen.set(key, nth);
    return plan(s.controlNumber, s.status, nth) ?? replies.ok();
  });
}

describe('ordered webhook destinations through the daemon', function () {
  this.timeout(30_000);
  let ledger: Receiver;
  let books: Receiver;
  let ops: Receiver;
  let t: TestDaemon;
  let config: Record<string, unknown>;
  const rules: Record<string, (cn: string, status: string, nth: number) => Reply | undefined> = {};

  before(async () => {
    [ledger, books, ops] = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
    const hook = (r: Receiver) => ({ type: 'webhook', url: `${r.url}/hook`, secret: SECRET });
    config = {
      admin: { token: TOKEN },
      destinations: {
        ledger: { ...hook(ledger), ordered: true },
        books: { ...hook(books), ordered: true, orderedOnDead: 'hold' },
        ops: hook(ops),
      },
      rules: [
        { name: 'ledger-feed', to: ['ledger'] },
        { name: 'books-feed', to: ['books'] },
        { name: 'dead-deliveries', match: { type: 'delivery.dead' }, to: ['ops'] },
      ],
      delivery: { maxAttempts: 12, initialBackoffMs: 100, maxBackoffMs: 400, timeoutMs: 2_000, pollIntervalMs: 100 },
    };
    t = await startTestDaemon(config);
    for (const [receiver, name] of [
      [ledger, 'ledger'],
      [books, 'books'],
    ] as const) {
      receiver.respondWith(answerBy((cn, status, nth) => rules[`${name}:${cn}`]?.(cn, status, nth)));
    }
  });
  after(async () => {
    await t.stop();
    await Promise.all([ledger.close(), books.close(), ops.close()]);
  });

  const deadAlertFor = async (cn: string, destination: string): Promise<Record<string, unknown>> => {
    const of = (rs: readonly RecordedRequest[]) =>
      rs
        .map(sent)
        .filter((s) => s.type === 'skyrelay.delivery.dead')
        .map((s) => s.data['data'] as Record<string, unknown>)
        .find((d) => d['controlNumber'] === cn && d['destination'] === destination);
    return of(await ops.waitFor((rs) => of(rs) !== undefined, 15_000)) as Record<string, unknown>;
  };

  const deliveriesOf = (cn: string, destination: string) =>
    withStore(t.dbPath, async (store) =>
      (await store.findEventsByControlNumber(cn))
        .flatMap((e) => e.deliveries)
        .filter((d) => d.destination === destination)
        .sort((a, b) => (a.payoutSeq ?? 0) - (b.payoutSeq ?? 0)),
    );

  it('continue: the payout waits out a failing status, then goes on without it once it dies', async () => {
    const cn = nextControlNumber('ORDC1');
    // The upload fails twice (retried meanwhile) and then for good: the later statuses wait all that time.
    rules[`ledger:${cn}`] = (_cn, status, nth) =>
      status === 'upload' ? (nth < 3 ? replies.unavailable() : replies.badRequest('no such account')) : undefined;
    await postLifecycle(t, cn, ['1', '5', '2']);
    const got = statusesOf(await ledger.waitFor((rs) => statusesOf(rs, cn).length >= 5, 15_000), cn);
    expect(got.map((s) => s.status)).to.deep.equal(['upload', 'upload', 'upload', 'amendedSuccess', 'paid']);
    const alert = await deadAlertFor(cn, 'ledger');
    expect(alert).to.include({ orderedOnDead: 'continue' });
    expect(String(alert['ordering'])).to.contain('go on without it');
    await waitUntil(
      async () => (await deliveriesOf(cn, 'ledger')).map((d) => d.state).join() === 'dead,delivered,delivered',
      'the later statuses to be delivered',
    );
  });

  it('hold: the payout waits behind its dead status, other payouts do not, and a replay sends it in its place', async () => {
    const cn = nextControlNumber('ORDH1');
    let fixed = false;
    rules[`books:${cn}`] = (_cn, status) => (status === 'upload' && !fixed ? replies.badRequest('closed') : undefined);
    await postLifecycle(t, cn, ['1', '5', '2']);
    const alert = await deadAlertFor(cn, 'books');
    expect(alert).to.include({ orderedOnDead: 'hold' });
    expect(String(alert['ordering'])).to.contain(`skyrelay release`);
    await waitUntil(
      async () => (await deliveriesOf(cn, 'books')).map((d) => d.state).join() === 'dead,pending,pending',
      'the later statuses to be stored, waiting',
    );
    const [dead, amended, paid] = await deliveriesOf(cn, 'books');
    expect(dead?.heldSince).to.be.a('string');
    expect(amended?.waitingFor).to.equal(dead?.id);
    expect(paid?.waitingFor).to.equal(dead?.id);

    // Another payout to the same destination goes through meanwhile: the hold is this payout's alone.
    const other = nextControlNumber('ORDH2');
    await postLifecycle(t, other, ['1', '2']);
    await books.waitFor((rs) => statusesOf(rs, other).length === 2, 10_000);
    expect(statusesOf(books.requests, cn).map((s) => s.status)).to.deep.equal(['upload']);

    fixed = true;
    const res = await fetch(`${t.baseUrl}/admin/deliveries/${dead?.id}/replay`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status, await res.clone().text()).to.equal(200);
    const got = statusesOf(await books.waitFor((rs) => statusesOf(rs, cn).length >= 4, 10_000), cn);
    expect(got.map((s) => s.status)).to.deep.equal(['upload', 'upload', 'amendedSuccess', 'paid']);
    await waitUntil(
      async () =>
        (await deliveriesOf(cn, 'books')).map((d) => `${d.state}:${d.heldSince === null}`).join() ===
        'delivered:true,delivered:true,delivered:true',
      'every status delivered, nothing held',
    );
  });

  it('hold: an operator releases the payout with `skyrelay release`; the dead status stays dead', async () => {
    const cn = nextControlNumber('ORDR1');
    rules[`books:${cn}`] = (_cn, status) => (status === 'upload' ? replies.badRequest('closed') : undefined);
    await postLifecycle(t, cn, ['1', '5', '2']);
    await deadAlertFor(cn, 'books');
    await waitUntil(
      async () => (await deliveriesOf(cn, 'books')).map((d) => d.state).join() === 'dead,pending,pending',
      'the later statuses to be stored, waiting',
    );
    const cli = { ...config, store: { path: t.dbPath } };
    const listed = await runCli(['deliveries', '--held', '--json'], cli);
    expect(listed.code, listed.stderr).to.equal(0);
    const held = listed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; controlNumber: string })
      .filter((d) => d.controlNumber === cn);
    expect(held).to.have.length(1);

    const released = await runCli(['release', held[0]?.id ?? ''], cli);
    expect(released.code, released.stderr).to.equal(0);
    expect(released.stdout).to.contain('2 later events of the payout go on');
    const got = statusesOf(await books.waitFor((rs) => statusesOf(rs, cn).length >= 3, 10_000), cn);
    expect(got.map((s) => s.status)).to.deep.equal(['upload', 'amendedSuccess', 'paid']);
    await waitUntil(
      async () =>
        (await deliveriesOf(cn, 'books')).map((d) => `${d.state}:${d.heldSince === null}`).join() ===
        'dead:true,delivered:true,delivered:true',
      'the payout to go on, its upload dead and released',
    );
    // Released once: the admin API refuses a second release, and knows no delivery that is not there.
    const release = (id: string) =>
      fetch(`${t.baseUrl}/admin/deliveries/${id}/release`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
    const again = await release(held[0]?.id ?? '');
    expect(again.status).to.equal(409);
    expect(((await again.json()) as { error: string }).error).to.contain('holds nothing back');
    expect((await release('no-such-delivery')).status).to.equal(404);
  });

  it("replays an older delivered status in its place: before the payout's later statuses still waiting", async () => {
    const cn = nextControlNumber('ORDP1');
    let replayedUpload = false;
    // The amendment fails until the replayed upload has arrived: with the replay sent after the newer statuses,
    // it would wait behind them and they behind it.
    rules[`ledger:${cn}`] = (_cn, status, nth) => {
      if (status === 'upload' && nth === 2) replayedUpload = true;
      return status === 'amendedSuccess' && !replayedUpload ? replies.unavailable() : undefined;
    };
    await postLifecycle(t, cn, ['1', '5', '2']);
    await ledger.waitFor((rs) => statusesOf(rs, cn).some((s) => s.status === 'amendedSuccess'), 10_000);
    const [upload] = await deliveriesOf(cn, 'ledger');
    expect(upload?.state).to.equal('delivered');
    const res = await fetch(`${t.baseUrl}/admin/deliveries/${upload?.id}/replay`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status, await res.clone().text()).to.equal(200);
    const got = statusesOf(
      await ledger.waitFor((rs) => statusesOf(rs, cn).some((s) => s.status === 'paid'), 15_000),
      cn,
    );
    const order = got.map((s) => s.status).filter((s, i, all) => s !== all[i - 1]);
    // upload, amendment (failing), upload again, amendment (now through), paid.
    expect(order).to.deep.equal(['upload', 'amendedSuccess', 'upload', 'amendedSuccess', 'paid']);
    await waitUntil(
      async () => (await deliveriesOf(cn, 'ledger')).every((d) => d.state === 'delivered'),
      'every status to be delivered',
    );
    const stored = await withStore(t.dbPath, (store) => store.listDeliveries({ destination: 'ledger', limit: ALL }));
    expect(
      stored
        .filter((d) => d.controlNumber === cn)
        .map((d) => d.payoutSeq)
        .sort(),
    ).to.deep.equal([1, 2, 3]);
  });
});
