import type Database from 'better-sqlite3';
import type { CallbackEvent, RelayEvent } from '../../event';
import { parseEvent, stringifyEvent } from '../../event-json';
import { createId } from '../../ids';
import { completeReconciled, digestContent, identityKey, listDifferences } from '../../skypay/identity';
import { eventColumns } from '../rows';
import type { IngestLease, NewDelivery, NewRejection, PayoutPolicy, SaveOutcome, SuppressedRejections } from '../types';
import { preparePayouts } from './payouts';

export interface EventWrite {
  event: RelayEvent;
  deliveries: NewDelivery[];
  /** A payout event judged against its payout in this transaction (savePayoutEvent); its deliveries come from it. */
  policy?: PayoutPolicy;
  lease?: IngestLease | undefined;
}

interface KeyRow {
  event_id: string;
  digest: Buffer | null;
}

/**
 * Prepares the statements once and returns the function the group-commit
 * batcher calls: one IMMEDIATE transaction for the whole batch, so the
 * dedup check, the conflict check and the insert cannot interleave with
 * another process.
 */
export interface EventWriter {
  /** A batch in its own IMMEDIATE transaction. */
  write(writes: EventWrite[]): SaveOutcome[];
  /** A batch inside a transaction the caller holds (a group commit that also carries finished attempts). */
  writeWithin(writes: EventWrite[]): SaveOutcome[];
}

export function prepareEventWriter(db: Database.Database): EventWriter {
  const insertEvent = db.prepare(`
    INSERT INTO events (id, source, type, partner, control_number, pay_type, status, deal_time, body, received_ms)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const identity = 'partner = ? AND control_number = ? AND pay_type = ? AND deal_time = ?';
  const insertKey = db.prepare(`
    INSERT INTO callback_keys (partner, control_number, pay_type, deal_time, event_id, received_ms, digest)
    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`);
  const selectKey = db.prepare(`SELECT event_id, digest FROM callback_keys WHERE ${identity}`);
  const setDigest = db.prepare(`UPDATE callback_keys SET digest = ? WHERE ${identity}`);
  const selectBody = db.prepare('SELECT body FROM events WHERE id = ?').pluck();
  const countDuplicate = db
    .prepare(
      `
    UPDATE events SET duplicates = duplicates + 1, last_seen_ms = ? WHERE id = ? RETURNING duplicates`,
    )
    .pluck();
  // The real callback of an event reconciliation created: it completes that event (see completeReconciled).
  const completeDuplicate = db
    .prepare(
      'UPDATE events SET body = ?, duplicates = duplicates + 1, last_seen_ms = ? WHERE id = ? RETURNING duplicates',
    )
    .pluck();
  const insertCopy = db.prepare(`
    INSERT INTO callback_copies (id, event_id, received_ms, body, digest) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (event_id, digest) DO UPDATE SET repeats = repeats + 1 RETURNING id, repeats`);
  const insertDelivery = db.prepare(`
    INSERT INTO deliveries (id, event_id, destination, rules, state, next_attempt_ms, created_ms, updated_ms)
    VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)`);
  const insertSilenced = db.prepare(
    'INSERT INTO event_silences (event_id, destination, silence_id, rules) VALUES (?, ?, ?, ?)',
  );
  const insertMember = db.prepare(`
    INSERT INTO group_members (event_id, destination, group_key, rules, created_ms) VALUES (?, ?, ?, ?, ?)`);
  // Leased at ingest: in flight with its first attempt counted, as a claim would have left it.
  const insertLeased = db.prepare(`
    INSERT INTO deliveries (id, event_id, destination, rules, state, attempts, next_attempt_ms, lease_owner,
      lease_until_ms, created_ms, updated_ms)
    VALUES (?, ?, ?, ?, 'inflight', 1, ?, ?, ?, ?, ?)`);
  const countInFlight = db
    .prepare(`SELECT count(*) FROM deliveries WHERE destination = ? AND state = 'inflight' AND lease_until_ms >= ?`)
    .pluck();
  const hasBacklog = db
    .prepare(
      `SELECT EXISTS (SELECT 1 FROM deliveries INDEXED BY deliveries_pending
         WHERE state = 'pending' AND destination = ? AND next_attempt_ms <= ?)`,
    )
    .pluck();

  /** A known identity: a counted duplicate when the content matches (or cannot be compared), else a kept copy. */
  const receiveAgain = (payout: CallbackEvent, receivedMs: number, digest: Buffer): SaveOutcome => {
    const key = identityKey(payout);
    const row = selectKey.get(...key) as KeyRow;
    // The first event's body is read only when needed: a plain duplicate is decided by the digests alone.
    const readFirst = (): CallbackEvent | undefined => {
      const body = selectBody.get(row.event_id) as string | undefined;
      return body === undefined ? undefined : (parseEvent(body) as CallbackEvent);
    };
    let first: CallbackEvent | undefined;
    let known = row.digest;
    if (known === null) {
      first = readFirst();
      // A key carried over from before the key table: its digest comes from the event, once.
      if (first) {
        known = digestContent(first);
        setDigest.run(known, ...key);
      }
    }
    if (known === null || known.equals(digest)) {
      const duplicates = countDuplicate.get(receivedMs, row.event_id) as number | undefined;
      return { eventId: row.event_id, duplicate: true, duplicates: duplicates ?? 0 };
    }
    first ??= readFirst();
    const completed = completeReconciled(first, payout);
    if (completed) {
      setDigest.run(digest, ...key);
      const duplicates = completeDuplicate.get(stringifyEvent(completed), receivedMs, row.event_id) as
        number | undefined;
      return { eventId: row.event_id, duplicate: true, duplicates: duplicates ?? 0 };
    }
    const newId = createId('cpy');
    const copy = insertCopy.get(newId, row.event_id, receivedMs, stringifyEvent({ ...payout, id: newId }), digest) as {
      id: string;
      repeats: number;
    };
    return {
      eventId: row.event_id,
      duplicate: true,
      duplicates: 0,
      conflict: {
        copyId: copy.id,
        repeat: copy.repeats > 0,
        differs: first ? listDifferences(first, payout) : undefined,
      },
    };
  };

  /**
   * In the batch's IMMEDIATE transaction, so the count includes every process's leases and claims: the same
   * per-destination limit a claim holds. `inFlight` carries the counts through the batch.
   */
  const insertDeliveries = (
    eventId: string,
    receivedMs: number,
    deliveries: NewDelivery[],
    lease: IngestLease | undefined,
    inFlight: Map<string, number>,
  ): string[] => {
    const leased: string[] = [];
    const now = Date.now();
    for (const d of deliveries) {
      const rules = JSON.stringify(d.rules);
      // A route a silence held back is recorded on the event, not sent; a grouping destination gets a member row.
      if (d.silencedBy !== undefined) {
        insertSilenced.run(eventId, d.destination, d.silencedBy, rules);
        continue;
      }
      if (d.groupKey !== undefined) {
        insertMember.run(eventId, d.destination, d.groupKey, rules, receivedMs);
        continue;
      }
      if (lease !== undefined) {
        // A destination with deliveries already waiting gets none leased: they go first (claims are oldest first).
        const busy =
          inFlight.get(d.destination) ??
          (hasBacklog.get(d.destination, now) === 1 ? Infinity : (countInFlight.get(d.destination, now) as number));
        if (busy < lease.maxInFlight(d.destination)) {
          inFlight.set(d.destination, busy + 1);
          insertLeased.run(d.id, eventId, d.destination, rules, receivedMs, lease.owner, lease.untilMs, now, now);
          leased.push(d.id);
          continue;
        }
        inFlight.set(d.destination, busy);
      }
      insertDelivery.run(d.id, eventId, d.destination, rules, receivedMs, receivedMs, receivedMs);
    }
    return leased;
  };

  const payouts = preparePayouts(db);

  const writeOne = (
    { event, deliveries: planned, policy, lease }: EventWrite,
    inFlight: Map<string, number>,
  ): SaveOutcome => {
    const receivedMs = Date.parse(event.receivedAt);
    const payout = event.source === 'skypay' ? event : undefined;
    let deliveries = planned;
    let raised: SaveOutcome['raised'];
    if (payout) {
      const digest = digestContent(payout);
      const added = insertKey.run(...identityKey(payout), event.id, receivedMs, digest);
      if (added.changes === 0) return receiveAgain(payout, receivedMs, digest);
      if (policy && payout.type === 'payout') {
        raised = payouts.apply(payout, policy);
        deliveries = policy.plan(payout);
      }
    }
    // Positional parameters: binding from an object costs a property lookup per name on every insert.
    insertEvent.run(event.id, event.source, event.type, ...eventColumns(event), stringifyEvent(event), receivedMs);
    const leased = insertDeliveries(event.id, receivedMs, deliveries, lease, inFlight);
    return {
      eventId: event.id,
      duplicate: false,
      duplicates: 0,
      ...(lease === undefined ? {} : { leased }),
      ...(payout?.type === 'payout' && payout.transition && policy
        ? { transition: payout.transition, raised: raised ?? [] }
        : {}),
    };
  };

  const writeWithin = (writes: EventWrite[]): SaveOutcome[] => {
    const inFlight = new Map<string, number>();
    return writes.map((w) => writeOne(w, inFlight));
  };
  const writeAll = db.transaction(writeWithin);
  return { write: (writes) => writeAll.immediate(writes), writeWithin };
}
export function prepareRejectionWriter(db: Database.Database): (rejections: NewRejection[]) => void[] {
  const insert = db.prepare(`
    INSERT INTO rejections (id, received_ms, remote_address, method, path, content_type, status, reason, description,
      partner, body, body_bytes, content_type_bytes)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const writeAll = db.transaction((rows: NewRejection[]) =>
    rows.map((r) => {
      insert.run(
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
      );
    }),
  );
  return (rows) => writeAll.immediate(rows);
}

export function prepareSuppressedWriter(db: Database.Database): (counts: SuppressedRejections[]) => void {
  const add = db.prepare('UPDATE rejections SET suppressed = suppressed + ? WHERE id = ?');
  const addAll = db.transaction((counts: SuppressedRejections[]) => {
    for (const c of counts) add.run(c.count, c.rejectionId);
  });
  return (counts) => addAll.immediate(counts);
}

/** Store.takeRejectionRows: one UPDATE of the one quota row (every SET reads the row as it was). */
export function prepareRejectionQuota(db: Database.Database): (minuteMs: number, want: number, cap: number) => number {
  const take = db.prepare(`
    UPDATE rejection_quota SET
      granted = max(0, min(@want, @cap - CASE WHEN minute_ms >= @minute THEN taken ELSE 0 END)),
      taken = CASE WHEN minute_ms >= @minute THEN taken ELSE 0 END
        + max(0, min(@want, @cap - CASE WHEN minute_ms >= @minute THEN taken ELSE 0 END)),
      minute_ms = max(minute_ms, @minute)
    WHERE id = 1
    RETURNING granted`);
  return (minute, want, cap) => (take.get({ minute, want, cap }) as { granted: number } | undefined)?.granted ?? 0;
}
