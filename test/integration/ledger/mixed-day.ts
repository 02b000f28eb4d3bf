/**
 * A mixed day through the running daemon, shared by the ledger suites on each store: callbacks with duplicates and
 * a conflicting copy, refusals, a grouped Slack destination, a silence, a receiver that died (dead deliveries) and a
 * replay of one, and a reconciliation that creates the paid status no callback brought. The test counts what it
 * did itself (`Expected`), so the ledger's numbers are checked against something it did not compute.
 */
import { expect } from 'chai';
import { dayOf } from '../../../src/ledger/balance';
import type { Ledger } from '../../../src/ledger/types';
import { waitUntil, type TestDaemon } from '../../support/daemon';
import { getRefusedUrl, replies, startReceiver, type Receiver } from '../../support/receiver';
import {
  SAMPLE_AUTH,
  SAMPLE_ENCRYPT_KEY,
  SAMPLE_PARTNER,
  buildCallback,
  dealTimeFromNow,
  decryptReply,
  nextControlNumber,
  postCallback,
} from '../../support/skypay';
import { SkyPaySimulator } from '../../support/skypay-simulator';

export const TOKEN = 'ledger-admin-token-0123456789abc';
const SECRET = `whsec_${Buffer.from('ledger-test-signing-secret-00001').toString('base64')}`;
const MINUTE = 60_000;

export interface MixedDay {
  sim: SkyPaySimulator;
  hook: Receiver;
  slack: Receiver;
  /** The receivers' and simulator's shutdown. */
  close(): Promise<void>;
  config: Record<string, unknown>;
}

/** The receivers, the simulator and the config: hook (alive), dying (refuses), quiet (silenced), ops-slack (grouped). */
export async function prepareMixedDay(store: Record<string, unknown>): Promise<MixedDay> {
  const sim = await SkyPaySimulator.start({
    userName: SAMPLE_PARTNER,
    authentication: SAMPLE_AUTH,
    encryptKey: SAMPLE_ENCRYPT_KEY,
  });
  const [hook, slack, quiet] = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
  for (const r of [hook, slack, quiet]) r.respondWith(replies.ok());
  // The receiver that died: nothing listens at its address any more.
  const dying = await getRefusedUrl();
  const webhook = (url: string) => ({ type: 'webhook', url, secret: SECRET });
  const config = {
    store,
    skypay: {
      partners: [{ userName: SAMPLE_PARTNER, authentication: [SAMPLE_AUTH], encryptKeys: [SAMPLE_ENCRYPT_KEY] }],
      statusQuery: { url: sim.url, partner: SAMPLE_PARTNER, timeoutMs: 1000, intervalMs: 200, minAgeMs: 300 },
    },
    destinations: {
      hook: webhook(`${hook.url}/hook`),
      // No breaker: its deliveries die after maxAttempts instead of waiting, paused, for it to come back.
      dying: { ...webhook(`${dying}/hook`), breaker: false },
      quiet: webhook(`${quiet.url}/hook`),
      'ops-slack': {
        type: 'slack',
        url: `${slack.url}/services/T1/B1/ledger`,
        group: { waitMs: 300, intervalMs: 500 },
      },
    },
    rules: [
      { name: 'feed', match: { source: 'skypay' }, to: ['hook', 'dying', 'quiet'] },
      { name: 'problems', match: { payType: 'failure' }, to: ['ops-slack'] },
    ],
    payouts: { stuckAfterMs: 0 },
    delivery: { maxAttempts: 2, initialBackoffMs: 50, maxBackoffMs: 100, timeoutMs: 1000, pollIntervalMs: 50 },
    admin: { token: TOKEN },
  };
  const close = async () => {
    await Promise.all([sim.stop(), hook.close(), slack.close(), quiet.close()]);
  };
  return { sim, hook, slack, close, config };
}

export async function admin(t: TestDaemon, method: string, path: string, body?: unknown) {
  const res = await fetch(`${t.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function post(t: TestDaemon, body: Record<string, unknown>): Promise<string> {
  const res = await postCallback(t.callbackUrl, body, { encryptKey: SAMPLE_ENCRYPT_KEY });
  return String((decryptReply(res.text, SAMPLE_ENCRYPT_KEY) as Record<string, unknown>)['responseCode']);
}

/** What the test did, counted by the test. */
export interface Expected {
  day: string;
  accepted: number;
  duplicates: number;
  conflictingCopies: number;
  rejected: number;
  fromCallbacks: number;
  failures: string[];
  paidByReconciliation: string;
}

/** Plays the day; resolves once every route has reached its end (nothing pending or in flight). */
export async function playMixedDay(t: TestDaemon, m: MixedDay): Promise<Expected> {
  const day = dayOf(Date.now(), 480);
  // Silenced from the start: every payout's route to `quiet` is held back.
  const silence = await admin(t, 'POST', '/admin/silences', {
    matchers: { partner: SAMPLE_PARTNER },
    destinations: ['quiet'],
    endsAt: new Date(Date.now() + 3_600_000).toISOString(),
    createdBy: 'ledger-test',
    comment: 'quiet is down for maintenance',
  });
  expect(silence.status, JSON.stringify(silence.json)).to.equal(201);
  const uploads = [0, 1, 2, 3].map(() => ({ cn: nextControlNumber('SKLDG'), dealTime: dealTimeFromNow(-5 * MINUTE) }));
  const reconciled = { cn: nextControlNumber('SKLRC'), dealTime: dealTimeFromNow(-5 * MINUTE) };
  const paidAt = dealTimeFromNow(-MINUTE);
  m.sim.set({ controlNumber: reconciled.cn, status: '1', statusDesc: 'Completed', payTime: paidAt, cancelTime: '' });
  const sent: Record<string, unknown>[] = [];
  const accept = async (body: Record<string, unknown>) => {
    expect(await post(t, body), JSON.stringify(body)).to.equal('1000');
    sent.push(body);
  };
  for (const u of [...uploads, reconciled])
    await accept(buildCallback({ controlNumber: u.cn, payType: '1', dealTime: u.dealTime }));
  const failures = [uploads[0], uploads[1]].map((u) => u!.cn);
  const failedAt = dealTimeFromNow(-2 * MINUTE);
  for (const cn of failures) {
    await accept(
      buildCallback({ controlNumber: cn, payType: '4', dealTime: failedAt, failDescription: 'account closed' }),
    );
  }
  await accept(buildCallback({ controlNumber: uploads[2]!.cn, payType: '2', dealTime: dealTimeFromNow(-3 * MINUTE) }));
  // A duplicate (the same callback again) and a conflicting copy (same identity, other failDescription).
  await accept(sent[0]!);
  await accept({ ...sent[5]!, failDescription: 'account frozen' });
  // Two refusals: a wrong authentication key.
  for (let i = 0; i < 2; i++) {
    const code = await post(
      t,
      buildCallback({ authentication: 'WRONG-KEY', payType: '1', dealTime: dealTimeFromNow() }),
    );
    expect(code).to.not.equal('1000');
  }
  // Reconciliation finds the paid status of `reconciled`, which no callback brought.
  await waitUntil(
    async () => {
      const events = await admin(t, 'GET', `/admin/events?controlNumber=${reconciled.cn}`);
      return (events.json['items'] as unknown[]).length === 2;
    },
    'the reconciled paid status',
    15_000,
  );
  await waitUntil(async () => (await deliveriesIn(t, 'dying', 'dead')) === 9, 'every delivery to dying dead', 15_000);
  // A replay of one dead delivery: it dies again.
  const dead = await admin(t, 'GET', '/admin/deliveries?destination=dying&state=dead&limit=1');
  const replayed = (dead.json['items'] as { id: string }[])[0]!.id;
  expect((await admin(t, 'POST', `/admin/deliveries/${replayed}/replay`)).status).to.equal(200);
  await waitUntil(
    async () =>
      (await deliveriesIn(t, 'dying', 'pending')) + (await deliveriesIn(t, 'dying', 'inflight')) === 0 &&
      (await deliveriesIn(t, 'dying', 'dead')) === 9,
    'the replayed delivery dead again',
    15_000,
  );
  await waitUntil(
    () => failures.every((cn) => m.slack.requests.some((r) => r.body.includes(cn))),
    'both failures in a Slack message',
    15_000,
  );
  await waitUntil(
    async () => (await deliveriesIn(t, 'ops-slack', 'delivered')) === m.slack.requests.length,
    'every group message delivered',
    15_000,
  );
  await waitUntil(
    async () => (await deliveriesIn(t, 'hook', 'delivered')) === 9,
    'every hook delivery delivered',
    15_000,
  );
  return {
    day,
    accepted: sent.length,
    duplicates: 1,
    conflictingCopies: 1,
    rejected: 2,
    // Every accepted callback but the duplicate and the copy made an event.
    fromCallbacks: sent.length - 2,
    failures,
    paidByReconciliation: reconciled.cn,
  };
}

async function deliveriesIn(t: TestDaemon, destination: string, state: string): Promise<number> {
  const page = await admin(t, 'GET', `/admin/deliveries?destination=${destination}&state=${state}&limit=500`);
  return (page.json['items'] as unknown[]).length;
}

/** The ledger's numbers against the test's own. */
export function expectLedgerOf(ledger: Ledger, expected: Expected, slackMessages: number): void {
  expect(ledger.day).to.equal(expected.day);
  expect(ledger.callbacks).to.deep.equal({
    accepted: expected.accepted,
    duplicates: expected.duplicates,
    conflictingCopies: expected.conflictingCopies,
    rejected: { unauthenticated: expected.rejected },
    suppressed: 0,
  });
  // skyrelay's own: the group messages (no rule routes alerts here).
  expect(ledger.events).to.deep.equal({ callback: expected.fromCallbacks, reconciliation: 1, skyrelay: slackMessages });
  const routed = expected.fromCallbacks + 1;
  const none = { deliveredInGroup: 0, silenced: 0, dead: 0, pending: 0, inflight: 0, replayed: 0 };
  expect(ledger.routes['hook']).to.deep.equal({ ...none, routed, delivered: routed, oldestPendingSeconds: null });
  expect(ledger.routes['dying']).to.deep.equal({
    ...none,
    routed,
    delivered: 0,
    dead: routed,
    replayed: 1,
    oldestPendingSeconds: null,
  });
  expect(ledger.routes['quiet']).to.deep.equal({
    ...none,
    routed,
    delivered: 0,
    silenced: routed,
    oldestPendingSeconds: null,
  });
  expect(ledger.routes['ops-slack']).to.deep.equal({
    ...none,
    routed: expected.failures.length + slackMessages,
    delivered: slackMessages,
    deliveredInGroup: expected.failures.length,
    oldestPendingSeconds: null,
  });
  expect(ledger.payouts).to.deep.include({
    opened: 5,
    finalised: { paid: 2, cancelled: 0, failed: 2 },
    stillOpen: { under1h: 1, under24h: 0, older: 0 },
    stuck: 0,
    anomalies: {},
    confirmed: 1,
    contradicted: 0,
  });
  expect(ledger.unexplained).to.deep.equal([]);
  expect(ledger.balanced).to.equal(true);
}
