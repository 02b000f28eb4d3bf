import { isPayoutAnomalyKind, type PayoutAnomalyKind } from '../event';
import { parseEvent } from '../event-json';
import { all, type Script } from './sql';
import {
  LEDGER_UNEXPLAINED_LIMIT,
  type CallbackCounts,
  type LedgerWindow,
  type PayoutCounts,
  type Unexplained,
} from '../ledger/types';

/**
 * The ledger's counts of callbacks, payouts and anomalies (src/store/ledger.ts counts the events a slice at a time):
 * callbacks from the tally and the refusals and anomalies for the whole window, payouts by when they were first seen
 * for one slice. Each a statement or two over an index.
 */

type Window = Pick<LedgerWindow, 'startMs' | 'endMs' | 'partner'>;

/** The tally written with each acknowledged callback, and the refusals kept (plus those only counted). */
export function* countCallbacks(w: Window): Script<CallbackCounts> {
  const partner = w.partner === undefined ? [] : [w.partner];
  const tally = yield* all<{ outcome: string; n: number }>(
    `SELECT outcome, sum(count) AS n FROM callback_tally WHERE quarter_ms >= ? AND quarter_ms < ?
     ${w.partner === undefined ? '' : 'AND partner = ?'} GROUP BY outcome`,
    [w.startMs, w.endMs, ...partner],
  );
  const of = (outcome: string) => Number(tally.find((t) => t.outcome === outcome)?.n ?? 0);
  const refused = yield* all<{ reason: string; n: number; suppressed: number }>(
    `SELECT reason, count(*) AS n, sum(suppressed) AS suppressed FROM rejections
     WHERE received_ms >= ? AND received_ms < ? ${w.partner === undefined ? '' : 'AND partner = ?'}
     GROUP BY reason ORDER BY reason`,
    [w.startMs, w.endMs, ...partner],
  );
  const rejected: Record<string, number> = {};
  let suppressed = 0;
  for (const r of refused) {
    rejected[r.reason] = Number(r.n) + Number(r.suppressed ?? 0);
    suppressed += Number(r.suppressed ?? 0);
  }
  const [newEvents, duplicates, conflictingCopies] = [of('event'), of('duplicate'), of('copy')];
  return {
    accepted: newEvents + duplicates + conflictingCopies,
    newEvents,
    duplicates,
    conflictingCopies,
    rejected,
    suppressed,
  };
}

/** Callbacks acknowledged as new whose event is not there: their identity is kept, the event is not. */
export function* findLostCallbacks(w: Window): Script<Unexplained[]> {
  const partner = w.partner === undefined ? [] : [w.partner];
  const lost = yield* all<{ event_id: string; control_number: string }>(
    `SELECT k.event_id, k.control_number FROM callback_keys k WHERE k.received_ms >= ? AND k.received_ms < ?
     ${w.partner === undefined ? '' : 'AND k.partner = ?'}
     AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = k.event_id) ORDER BY k.event_id LIMIT ?`,
    [w.startMs, w.endMs, ...partner, LEDGER_UNEXPLAINED_LIMIT],
  );
  return lost.map((r) => ({
    kind: 'callback' as const,
    id: r.event_id,
    why: `callback for ${r.control_number} was acknowledged as new, but its event is missing`,
  }));
}

const HOUR_MS = 3_600_000;

export function* countPayouts(w: LedgerWindow): Script<PayoutCounts> {
  const partner = w.partner === undefined ? [] : [w.partner];
  const found = yield* all<{ state: string; confirmation: string; stuck: number; age: string; n: number }>(
    `SELECT state, confirmation, CASE WHEN stuck_state = state THEN 1 ELSE 0 END AS stuck,
       CASE WHEN first_seen_ms > ? THEN 'under1h' WHEN first_seen_ms > ? THEN 'under24h' ELSE 'older' END AS age,
       count(*) AS n
     FROM payouts WHERE first_seen_ms >= ? AND first_seen_ms < ? ${w.partner === undefined ? '' : 'AND partner = ?'}
     GROUP BY 1, 2, 3, 4`,
    [w.now - HOUR_MS, w.now - 24 * HOUR_MS, w.startMs, w.endMs, ...partner],
  );
  const counts = noPayouts();
  for (const r of found) {
    const n = Number(r.n);
    counts.opened += n;
    if (r.state === 'paid' || r.state === 'cancelled' || r.state === 'failed') counts.finalised[r.state] += n;
    else {
      counts.stillOpen[r.age as keyof PayoutCounts['stillOpen']] += n;
      if (Number(r.stuck) === 1) counts.stuck += n;
    }
    if (r.confirmation === 'confirmed') counts.confirmed += n;
    if (r.confirmation === 'contradicted') counts.contradicted += n;
  }
  return counts;
}

/**
 * The window's payout anomalies by kind. Anomalies are skyrelay's events: their partner and kind are in their data.
 * Read for the whole window at once, over the index of skyrelay's events by type (a day's anomalies are few rows): in
 * a slice of an hour PostgreSQL's planner would rather take the events' received_ms index and read the body of
 * every event of the slice to find none.
 */
export function* countAnomalies(w: Window): Script<PayoutCounts['anomalies']> {
  const found = yield* all<{ body: string }>(
    `SELECT body FROM events WHERE received_ms >= ? AND received_ms < ? AND source = 'skyrelay'
     AND type = 'payout.anomaly'`,
    [w.startMs, w.endMs],
  );
  const anomalies: PayoutCounts['anomalies'] = {};
  for (const { body } of found) {
    const event = parseEvent(body);
    if (event.source !== 'skyrelay') continue;
    const kind = event.data['kind'];
    if (w.partner !== undefined && event.data['partner'] !== w.partner) continue;
    if (isPayoutAnomalyKind(kind)) anomalies[kind] = (anomalies[kind] ?? 0) + 1;
  }
  return anomalies;
}

function noPayouts(): PayoutCounts {
  return {
    opened: 0,
    finalised: { paid: 0, cancelled: 0, failed: 0 },
    stillOpen: { under1h: 0, under24h: 0, older: 0 },
    stuck: 0,
    anomalies: {},
    confirmed: 0,
    contradicted: 0,
  };
}

/** The payouts of several slices as one window's. */
export function addPayouts(parts: readonly PayoutCounts[]): PayoutCounts {
  const total = noPayouts();
  for (const p of parts) {
    for (const key of ['opened', 'stuck', 'confirmed', 'contradicted'] as const) total[key] += p[key];
    for (const key of ['paid', 'cancelled', 'failed'] as const) total.finalised[key] += p.finalised[key];
    for (const key of ['under1h', 'under24h', 'older'] as const) total.stillOpen[key] += p.stillOpen[key];
    for (const [kind, n] of Object.entries(p.anomalies) as [PayoutAnomalyKind, number][]) {
      total.anomalies[kind] = (total.anomalies[kind] ?? 0) + n;
    }
  }
  return total;
}
