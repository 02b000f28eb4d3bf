import type { CallbackEvent, RelayEvent } from '../event';
import { parseEvent, stringifyEvent } from '../event-json';
import { createId } from '../ids';
import type { DedupRules, StoreContext } from './context';
import { toStoreError } from './driver';
import { createBatcher } from './group-commit';
import type { IngestStore } from './store';
import { finishAttempts, type FinishWrite } from './outbox';
import { judgePayouts } from './payouts';
import { get, rows, run, type Dialect, type RowSource, type Script } from './sql';
import type { ClaimedDelivery, IngestLease, NewDelivery } from '../delivery/types';
import type { NewRejection, SaveOutcome, SuppressedRejections } from '../ingest/types';
import type { PayoutPolicy } from '../payouts/types';
import { tallyCallbacks } from './tally';
import { leaseAtIngest } from './lease';
import { insertEvents, type EventInsert } from './writes';
import { originOf } from '../ledger/decisions';
import { holdBehindDead, passOnInLine, placeInLine } from './ordering';

/** One event to store in the group commit: planned already (`deliveries`), or judged and planned by `policy`. */
export interface EventWrite {
  event: RelayEvent;
  deliveries: NewDelivery[];
  /** A payout event judged against its payout in this transaction (savePayoutEvent); its deliveries come from it. */
  policy?: PayoutPolicy | undefined;
  lease?: IngestLease | undefined;
}

/** What one group commit carries: callbacks' events and the attempts that finished meanwhile. */
export type GroupItem = { event: EventWrite } | { finish: FinishWrite };

const KEY_COLUMNS: RowSource['columns'] = [
  ['partner', 'text'],
  ['control_number', 'text'],
  ['pay_type', 'int'],
  ['deal_time', 'text'],
  ['event_id', 'text'],
  ['received_ms', 'bigint'],
  ['digest', 'bytea'],
];

/**
 * One group commit: finished attempts first (the in-flight slots they free count for the leases of the events
 * after them), then the events. `lost` fails the events alone (their callers must not get a 1000) while attempts
 * are still written to the open handle, which the worker reads too.
 */
export function* commitGroup(
  d: Dialect,
  rules: DedupRules,
  items: readonly GroupItem[],
  lost: Error | undefined,
): Script<(SaveOutcome | ClaimedDelivery | Error | undefined)[]> {
  const now = Date.now();
  const finishes = items.flatMap((i) => ('finish' in i ? [i.finish] : []));
  yield* finishAttempts(d, finishes, now);
  // Deaths at an ordered destination that holds: the payout's later deliveries there wait behind them.
  yield* holdBehindDead(d, finishes, now);
  // Finishes that bring a line's next delivery its turn lease it to the same worker: no claim waits for it.
  const passed = yield* passOnInLine(d, finishes, now);
  const writes = items.flatMap((i) => ('event' in i ? [i.event] : []));
  const saved = lost || writes.length === 0 ? [] : yield* saveEvents(d, rules, writes, now);
  let e = 0;
  return items.map((i) => ('finish' in i ? passed.get(i.finish.delivery.id) : (lost ?? saved[e++])));
}

/**
 * Stores each event with its routes, unless a callback with the same identity was ever accepted: then the repeat
 * is counted (or kept as a conflicting copy, when its content differs) and writes no deliveries. Identities go in
 * first with ON CONFLICT DO NOTHING, in identity order: of copies racing from many processes, the one whose key
 * commits first is the event, and two batches holding the same identities wait for each other, never deadlock.
 */
function* saveEvents(d: Dialect, rules: DedupRules, writes: readonly EventWrite[], now: number): Script<SaveOutcome[]> {
  const receivedMs = writes.map((w) => Date.parse(w.event.receivedAt));
  const keyed = writes
    .map((w, i) => ({ i, event: w.event }))
    .filter((x): x is { i: number; event: CallbackEvent } => x.event.source === 'skypay')
    .map(({ i, event }) => ({ i, event, key: rules.identityKey(event), digest: rules.digestContent(event) }))
    .sort((a, b) => compareText(JSON.stringify(a.key), JSON.stringify(b.key)));
  const won = yield* rows<{ event_id: string }>(
    `INSERT INTO callback_keys (partner, control_number, pay_type, deal_time, event_id, received_ms, digest)
     SELECT r.partner, r.control_number, r.pay_type, r.deal_time, r.event_id, r.received_ms, r.digest
     FROM :rows AS r WHERE true ON CONFLICT DO NOTHING RETURNING event_id`,
    {
      columns: KEY_COLUMNS,
      rows: keyed.map((k) => [...k.key, k.event.id, receivedMs[k.i], k.digest]),
    },
  );
  const wonIds = new Set(won.map((r) => r.event_id));
  const repeats = keyed.filter((k) => !wonIds.has(k.event.id));
  const repeated = new Set(repeats.map((k) => k.i));
  const fresh = writes.map((_, i) => i).filter((i) => !repeated.has(i));

  // Payout events are judged against their payouts; their routes are planned after, so rules see the transition.
  const judged = fresh.filter((i) => {
    const { event, policy } = writes[i] as EventWrite;
    return policy !== undefined && event.source === 'skypay' && event.type === 'payout';
  });
  const raised = yield* judgePayouts(
    d,
    judged.map((i) => {
      const w = writes[i] as EventWrite & { event: { type: 'payout' }; policy: PayoutPolicy };
      return { event: w.event, policy: w.policy };
    }),
  );
  const raisedOf = new Map(judged.map((i, j) => [i, raised[j] ?? []]));
  const routesOf = (i: number): NewDelivery[] => {
    const w = writes[i] as EventWrite;
    return w.policy && raisedOf.has(i) ? w.policy.plan(w.event) : w.deliveries;
  };
  const inserts: EventInsert[] = [];
  const outcomes: SaveOutcome[] = new Array<SaveOutcome>(writes.length);
  const planned = fresh.map((i) => ({ i, routes: routesOf(i) }));
  // Each event's place in its payout's order, numbered before any destination lock is taken (see placeInLine).
  const places = yield* placeInLine(
    planned.map(({ i, routes }) => ({ event: (writes[i] as EventWrite).event, routes })),
  );
  const leases = yield* leaseAtIngest(d, writes, planned, now, places);
  for (const { i, routes } of planned) {
    const w = writes[i] as EventWrite;
    const leased = leases.get(i);
    const place = places.get(w.event.id);
    inserts.push({ event: w.event, receivedMs: receivedMs[i] as number, routes, leased, place });
    const outcome: SaveOutcome = { eventId: w.event.id, duplicate: false, duplicates: 0 };
    if (w.lease !== undefined) outcome.leased = leased ? [...leased.ids] : [];
    const judgedRaised = raisedOf.get(i);
    if (judgedRaised !== undefined && w.event.source === 'skypay' && w.event.type === 'payout' && w.event.transition) {
      outcome.transition = w.event.transition;
      outcome.raised = judgedRaised;
      for (const r of judgedRaised) {
        inserts.push({ event: r, receivedMs: Date.parse(r.receivedAt), routes: (w.policy as PayoutPolicy).plan(r) });
      }
    }
    outcomes[i] = outcome;
  }
  yield* insertEvents(d, inserts, now);
  // After the new events: a repeat of an identity first seen in this same batch finds its event.
  for (const k of repeats) {
    outcomes[k.i] = yield* receiveAgain(d, rules, k.event, receivedMs[k.i] as number, k.key, k.digest);
  }
  yield* tallyCallbacks([
    ...fresh.flatMap((i) => {
      const event = (writes[i] as EventWrite).event;
      if (event.source !== 'skypay' || originOf(event) !== 'callback') return [];
      return [{ partner: event.partner, receivedMs: receivedMs[i] as number, outcome: 'event' as const }];
    }),
    ...repeats.map((k) => ({
      partner: k.event.partner,
      receivedMs: receivedMs[k.i] as number,
      outcome: outcomes[k.i]?.conflict ? ('copy' as const) : ('duplicate' as const),
    })),
  ]);
  return outcomes;
}

/** A known identity: a counted duplicate when the content matches (or cannot be compared), else a kept copy. */
function* receiveAgain(
  d: Dialect,
  rules: DedupRules,
  copy: CallbackEvent,
  receivedMs: number,
  key: readonly unknown[],
  digest: Buffer,
): Script<SaveOutcome> {
  const identity = 'partner = ? AND control_number = ? AND pay_type = ? AND deal_time = ?';
  // A statement of its own sees the winner's committed row (PostgreSQL's READ COMMITTED), even a moment old.
  const row = yield* get<{ event_id: string; digest: Buffer | null }>(
    `SELECT event_id, digest FROM callback_keys WHERE ${identity}`,
    key,
  );
  if (!row) throw new Error('callback key vanished between its conflict and its read');
  // The first event's body is read only when needed: a plain duplicate is decided by the digests alone.
  const readFirst = function* (): Script<CallbackEvent | undefined> {
    const found = yield* get<{ body: string }>('SELECT body FROM events WHERE id = ?', [row.event_id]);
    return found === undefined ? undefined : (parseEvent(found.body) as CallbackEvent);
  };
  let first: CallbackEvent | undefined;
  let known = row.digest;
  if (known === null) {
    // A key carried over from before the key table (or copied without one): its digest comes from the event, once.
    first = yield* readFirst();
    if (first) {
      known = rules.digestContent(first);
      yield* run(`UPDATE callback_keys SET digest = ? WHERE ${identity}`, [known, ...key]);
    }
  }
  const count = function* (body?: string): Script<number> {
    const counted = yield* get<{ duplicates: number }>(
      `UPDATE events SET ${body === undefined ? '' : 'body = ?, '}duplicates = duplicates + 1, last_seen_ms = ?
       WHERE id = ? RETURNING duplicates`,
      body === undefined ? [receivedMs, row.event_id] : [body, receivedMs, row.event_id],
    );
    return Number(counted?.duplicates ?? 0);
  };
  if (known === null || Buffer.from(known).equals(digest)) {
    return { eventId: row.event_id, duplicate: true, duplicates: yield* count() };
  }
  first ??= yield* readFirst();
  // The real callback of an event reconciliation created: it completes that event.
  const completed = rules.completeReconciled(first, copy);
  if (completed) {
    yield* run(`UPDATE callback_keys SET digest = ? WHERE ${identity}`, [digest, ...key]);
    return { eventId: row.event_id, duplicate: true, duplicates: yield* count(stringifyEvent(completed)) };
  }
  const newId = createId('cpy');
  const kept = yield* get<{ id: string; repeats: number }>(
    `INSERT INTO callback_copies (id, event_id, received_ms, body, digest) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (event_id, digest) DO UPDATE SET repeats = callback_copies.repeats + 1 RETURNING id, repeats`,
    [newId, row.event_id, receivedMs, stringifyEvent({ ...copy, id: newId }), digest],
  );
  return {
    eventId: row.event_id,
    duplicate: true,
    duplicates: 0,
    conflict: {
      copyId: String(kept?.id),
      repeat: Number(kept?.repeats ?? 0) > 0,
      differs: first ? rules.listDifferences(first, copy) : undefined,
    },
  };
}

const REJECTION_COLUMNS: RowSource['columns'] = [
  ['id', 'text'],
  ['received_ms', 'bigint'],
  ['remote_address', 'text'],
  ['method', 'text'],
  ['path', 'text'],
  ['content_type', 'text'],
  ['status', 'int'],
  ['reason', 'text'],
  ['description', 'text'],
  ['partner', 'text'],
  ['body', 'text'],
  ['body_bytes', 'int'],
  ['content_type_bytes', 'int'],
];

/** Rejections that arrive together go in as one set. */
export function* insertRejections(rejections: readonly NewRejection[]): Script<void> {
  yield* rows(
    `INSERT INTO rejections (id, received_ms, remote_address, method, path, content_type, status, reason, description,
       partner, body, body_bytes, content_type_bytes)
     SELECT r.id, r.received_ms, r.remote_address, r.method, r.path, r.content_type, r.status, r.reason,
       r.description, r.partner, r.body, r.body_bytes, r.content_type_bytes FROM :rows AS r`,
    {
      columns: REJECTION_COLUMNS,
      rows: rejections.map((r) => [
        r.id,
        r.receivedAt.getTime(),
        r.remoteAddress ?? null,
        r.method,
        r.path,
        r.contentType ?? null,
        r.status,
        r.reason,
        r.description,
        r.partner ?? null,
        r.body ?? null,
        r.bodyBytes ?? null,
        r.contentTypeBytes ?? null,
      ]),
    },
  );
}

/** Adds counts of rejections not kept to the rows that were, one update per row however many counts it gets. */
export function* addSuppressed(counts: readonly { rejectionId: string; count: number }[]): Script<void> {
  const sums = new Map<string, number>();
  for (const c of counts) sums.set(c.rejectionId, (sums.get(c.rejectionId) ?? 0) + c.count);
  yield* rows(
    'UPDATE rejections SET suppressed = rejections.suppressed + r.n FROM :rows AS r WHERE rejections.id = r.id',
    {
      columns: [
        ['id', 'text'],
        ['n', 'int'],
      ],
      rows: [...sums],
    },
  );
}

/**
 * Store.takeRejectionRows: one UPDATE of the one quota row, so processes taking at once queue on its lock and
 * never grant more than the cap between them (every SET reads the row as it was before the update).
 */
export function* takeRejectionRows(d: Dialect, minuteMs: number, want: number, cap: number): Script<number> {
  const prior = 'CASE WHEN minute_ms >= ? THEN taken ELSE 0 END';
  const grant = `${d.greatest}(0, ${d.least}(?, ? - ${prior}))`;
  const row = yield* get<{ granted: number }>(
    `UPDATE rejection_quota SET granted = ${grant}, taken = ${prior} + ${grant}, minute_ms = ${d.greatest}(minute_ms, ?)
     WHERE id = 1 RETURNING granted`,
    [want, cap, minuteMs, minuteMs, want, cap, minuteMs, minuteMs],
  );
  return Number(row?.granted ?? 0);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Storing callbacks and refusals: events through the group commit, refusals in batches of their own (and the counts
 * of those not kept after them), each batch retried off the event loop while another process holds the lock.
 */
export function createIngestStore(
  ctx: StoreContext,
  /** The group commit events share with finished attempts (src/store/commit.ts). */
  commit: { save(write: EventWrite): Promise<SaveOutcome> },
  options: { maxBatch?: number | undefined; busyTimeoutMs?: number | undefined },
): IngestStore & { flush(): Promise<void> } {
  const { driver, rules, assertOpen } = ctx;
  const batching = {
    maxBatch: options.maxBatch ?? 256,
    busyTimeoutMs: options.busyTimeoutMs ?? 5_000,
    isBusy: driver.failures.isBusy,
    failsAll: driver.failures.failsAll,
  };
  const rejections = createBatcher(
    (batch: NewRejection[]) => driver.writeRaw(() => insertRejections(batch)).then(() => batch.map(() => undefined)),
    batching,
  );
  const suppressed = createBatcher(
    (batch: SuppressedRejections[]) =>
      driver.writeRaw(() => addSuppressed(batch)).then(() => batch.map(() => undefined)),
    batching,
  );
  const fail = (err: unknown): never => toStoreError(err, driver.failures);
  return {
    saveEvent: async (event, deliveries, lease) => (assertOpen(), commit.save({ event, deliveries, lease })),
    savePayoutEvent: async (event, policy, lease) => (
      assertOpen(),
      commit.save({ event, deliveries: [], policy, lease })
    ),
    saveRejection: async (rejection) => {
      assertOpen();
      await rejections.submit(rejection).catch(fail);
    },
    addSuppressed: async (counts) => {
      assertOpen();
      if (counts.length === 0) return;
      // After the rows they count: a kept row still queued is written first.
      await rejections.flush();
      await Promise.all(counts.map((c) => suppressed.submit(c))).catch(fail);
    },
    takeRejectionRows: async (minuteMs, want, cap) => {
      assertOpen();
      return driver.write(() => takeRejectionRows(driver.d, minuteMs, want, cap));
    },
    // Straight through the open handle, lost file or not: the worker reads the same handle, so the alert that the
    // file is lost still goes out. Where nothing can be lost (PostgreSQL) it is an ordinary write.
    saveEventDespiteLoss: async (event, deliveries) => {
      assertOpen();
      await driver.write(() => commitGroup(driver.d, rules, [{ event: { event, deliveries } }], undefined));
    },
    flush: async () => {
      // Each on its own: one failing must not keep the other from its last writes.
      await rejections.flush().catch(() => undefined);
      await suppressed.flush().catch(() => undefined);
    },
  };
}
