import type { ClientBase } from 'pg';
import type { CallbackEvent, RelayEvent } from '../../event';
import { parseEvent, stringifyEvent } from '../../event-json';
import { createId } from '../../ids';
import { completeReconciled, digestContent, identityKey, listDifferences } from '../../skypay/identity';
import { eventColumns } from '../rows';
import type { IngestLease, NewDelivery, NewRejection, PayoutPolicy, SaveOutcome, SuppressedRejections } from '../types';
import { applyPayout, insertSilencedRoutes } from './payouts';
import { WORK_CHANNEL } from './locks';
import { insertDeliveries, lockDestinations } from './outbox';

export interface EventWrite {
  event: RelayEvent;
  deliveries: NewDelivery[];
  /** A payout event judged against its payout in this transaction (savePayoutEvent); its deliveries come from it. */
  policy?: PayoutPolicy;
  lease?: IngestLease | undefined;
}

/**
 * Writes a batch of events in the caller's transaction. The identity goes in
 * first with ON CONFLICT DO NOTHING: of copies racing from many instances,
 * the one whose key row commits first is the event (the others' inserts wait
 * for it, then find it), so dedup is exact without a table lock.
 */
export async function writeEvents(client: ClientBase, writes: readonly EventWrite[]): Promise<SaveOutcome[]> {
  const outcomes: SaveOutcome[] = new Array<SaveOutcome>(writes.length);
  /** Per write, the deliveries written pending (not silenced, not grouped): what a lease may take. */
  const pending: NewDelivery[][] = writes.map(() => []);
  let newWork = false;
  // Key rows are taken in identity order, so two instances' batches holding the same identities wait for each
  // other instead of deadlocking; the outcomes go back in the callers' order.
  const order = writes.map((_, i) => i).sort((a, b) => identityOrder(writes[a] as EventWrite, writes[b] as EventWrite));
  for (const i of order) {
    const write = writes[i] as EventWrite;
    const { outcome, written } = await writeOne(client, write);
    if (!outcome.duplicate && written.length > 0) newWork = true;
    outcomes[i] = outcome;
    pending[i] = written;
  }
  await leaseAtIngest(client, writes, outcomes, pending);
  // Delivered to listeners at COMMIT, once per transaction, and never for a batch that rolled back.
  if (newWork) await client.query('SELECT pg_notify($1, $2)', [WORK_CHANNEL, 'event']);
  return outcomes;
}

/**
 * Deliveries of new events whose writer asked for a lease go in flight to it, as far as each destination's
 * maxInFlight allows across instances: counted under the same per-destination advisory locks claims take, in
 * name order. Taken last in the transaction, after every key row, so a holder of these locks never waits for a
 * key another batch holds: no deadlock with other ingesting instances.
 */
async function leaseAtIngest(
  client: ClientBase,
  writes: readonly EventWrite[],
  outcomes: SaveOutcome[],
  pending: readonly NewDelivery[][],
) {
  const asking = writes.flatMap((w, i) =>
    w.lease && !outcomes[i]?.duplicate && (pending[i]?.length ?? 0) > 0 ? [i] : [],
  );
  if (asking.length === 0) return;
  const destinations = [...new Set(asking.flatMap((i) => (pending[i] ?? []).map((d) => d.destination)))];
  const inFlight = await lockDestinations(client, destinations, Date.now());
  // A destination with deliveries already waiting (not this batch's own) gets none leased: they go first.
  const batch = asking.flatMap((i) => (pending[i] ?? []).map((d) => d.id));
  const waiting = await client.query<{ destination: string }>(
    `SELECT name AS destination FROM unnest($1::text[]) AS name WHERE EXISTS (
       SELECT 1 FROM deliveries WHERE state = 'pending' AND destination = name AND next_attempt_ms <= $2
         AND id <> ALL($3))`,
    [destinations, Date.now(), batch],
  );
  for (const { destination } of waiting.rows) inFlight.set(destination, Infinity);
  const ids: string[] = [];
  const owners: string[] = [];
  const untils: number[] = [];
  for (const i of asking) {
    const { lease } = writes[i] as EventWrite & { lease: IngestLease };
    const deliveries = pending[i] ?? [];
    const leased: string[] = [];
    for (const d of deliveries) {
      const busy = inFlight.get(d.destination) ?? 0;
      if (busy >= lease.maxInFlight(d.destination)) continue;
      inFlight.set(d.destination, busy + 1);
      leased.push(d.id);
      ids.push(d.id);
      owners.push(lease.owner);
      untils.push(lease.untilMs);
    }
    (outcomes[i] as SaveOutcome).leased = leased;
  }
  if (ids.length === 0) return;
  // In flight with the first attempt counted, as a claim would have left them.
  await client.query(
    `UPDATE deliveries AS d SET state = 'inflight', attempts = 1, lease_owner = l.owner, lease_until_ms = l.until,
       updated_ms = $4
     FROM unnest($1::text[], $2::text[], $3::bigint[]) AS l (id, owner, until) WHERE d.id = l.id`,
    [ids, owners, untils, Date.now()],
  );
}

function identityOrder(a: EventWrite, b: EventWrite): number {
  const key = (w: EventWrite) => (w.event.source === 'skypay' ? JSON.stringify(identityKey(w.event)) : '');
  const ka = key(a);
  const kb = key(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Writes one event; `written` is what went to the deliveries table (pending), for leaseAtIngest. */
async function writeOne(
  client: ClientBase,
  { event, deliveries: planned, policy }: EventWrite,
): Promise<{ outcome: SaveOutcome; written: NewDelivery[] }> {
  const receivedMs = Date.parse(event.receivedAt);
  const payout = event.source === 'skypay' ? event : undefined;
  let deliveries = planned;
  let raised: SaveOutcome['raised'];
  if (payout) {
    const digest = digestContent(payout);
    const added = await client.query(
      `INSERT INTO callback_keys (partner, control_number, pay_type, deal_time, event_id, received_ms, digest)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
      [...identityKey(payout), event.id, receivedMs, digest],
    );
    if (added.rowCount === 0) return { outcome: await receiveAgain(client, payout, receivedMs, digest), written: [] };
    if (policy && payout.type === 'payout') {
      raised = await applyPayout(client, payout, policy);
      deliveries = policy.plan(payout);
    }
  }
  const silenced = deliveries.filter((d) => d.silencedBy !== undefined);
  deliveries = deliveries.filter((d) => d.silencedBy === undefined);
  // A destination that groups gets a member row; the group's message carries the event.
  const members = deliveries.filter((d) => d.groupKey !== undefined);
  deliveries = deliveries.filter((d) => d.groupKey === undefined);
  await client.query(
    `INSERT INTO events (id, source, type, partner, control_number, pay_type, status, deal_time, body, received_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [event.id, event.source, event.type, ...eventColumns(event), stringifyEvent(event), receivedMs],
  );
  if (members.length > 0) {
    await client.query(
      `INSERT INTO group_members (event_id, destination, group_key, rules, created_ms)
       SELECT $1, m.destination, m.group_key, m.rules, $2
       FROM unnest($3::text[], $4::text[], $5::text[]) AS m (destination, group_key, rules)`,
      [
        event.id,
        receivedMs,
        members.map((m) => m.destination),
        members.map((m) => m.groupKey),
        members.map((m) => JSON.stringify(m.rules)),
      ],
    );
  }
  await insertDeliveries(client, event.id, receivedMs, deliveries);
  await insertSilencedRoutes(client, event.id, silenced);
  const outcome: SaveOutcome = {
    eventId: event.id,
    duplicate: false,
    duplicates: 0,
    ...(payout?.type === 'payout' && payout.transition && policy
      ? { transition: payout.transition, raised: raised ?? [] }
      : {}),
  };
  return { outcome, written: deliveries };
}

/** A known identity: a counted duplicate when the content matches (or cannot be compared), else a kept copy. */
async function receiveAgain(
  client: ClientBase,
  payout: CallbackEvent,
  receivedMs: number,
  digest: Buffer,
): Promise<SaveOutcome> {
  const key = identityKey(payout);
  const identity = 'partner = $1 AND control_number = $2 AND pay_type = $3 AND deal_time = $4';
  // A statement of its own sees the winner's committed row (READ COMMITTED), even when it committed a moment ago.
  const { rows } = await client.query<{ event_id: string; digest: Buffer | null }>(
    `SELECT event_id, digest FROM callback_keys WHERE ${identity}`,
    key,
  );
  const row = rows[0];
  if (!row) throw new Error('callback key vanished between its conflict and its read');
  const readFirst = async (): Promise<CallbackEvent | undefined> => {
    const r = await client.query<{ body: string }>('SELECT body FROM events WHERE id = $1', [row.event_id]);
    const body = r.rows[0]?.body;
    return body === undefined ? undefined : (parseEvent(body) as CallbackEvent);
  };
  let first: CallbackEvent | undefined;
  let known = row.digest;
  if (known === null) {
    // A key copied in without its digest (a migrated store): the digest comes from the event, once.
    first = await readFirst();
    if (first) {
      known = digestContent(first);
      await client.query(`UPDATE callback_keys SET digest = $5 WHERE ${identity}`, [...key, known]);
    }
  }
  if (known === null || known.equals(digest)) {
    const counted = await client.query<{ duplicates: number }>(
      'UPDATE events SET duplicates = duplicates + 1, last_seen_ms = $1 WHERE id = $2 RETURNING duplicates',
      [receivedMs, row.event_id],
    );
    return { eventId: row.event_id, duplicate: true, duplicates: counted.rows[0]?.duplicates ?? 0 };
  }
  first ??= await readFirst();
  const completed = completeReconciled(first, payout);
  if (completed) {
    await client.query(`UPDATE callback_keys SET digest = $5 WHERE ${identity}`, [...key, digest]);
    const counted = await client.query<{ duplicates: number }>(
      `UPDATE events SET body = $3, duplicates = duplicates + 1, last_seen_ms = $1 WHERE id = $2
       RETURNING duplicates`,
      [receivedMs, row.event_id, stringifyEvent(completed)],
    );
    return { eventId: row.event_id, duplicate: true, duplicates: counted.rows[0]?.duplicates ?? 0 };
  }
  const newId = createId('cpy');
  const copy = await client.query<{ id: string; repeats: number }>(
    `INSERT INTO callback_copies (id, event_id, received_ms, body, digest) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (event_id, digest) DO UPDATE SET repeats = callback_copies.repeats + 1 RETURNING id, repeats`,
    [newId, row.event_id, receivedMs, stringifyEvent({ ...payout, id: newId }), digest],
  );
  const kept = copy.rows[0] as { id: string; repeats: number };
  return {
    eventId: row.event_id,
    duplicate: true,
    duplicates: 0,
    conflict: {
      copyId: kept.id,
      repeat: kept.repeats > 0,
      differs: first ? listDifferences(first, payout) : undefined,
    },
  };
}

/** Rejections that arrive together go in as one multi-row insert. */
export async function writeRejections(client: ClientBase, rows: readonly NewRejection[]): Promise<void> {
  const columns = {
    id: [] as string[],
    received: [] as number[],
    remote: [] as (string | null)[],
    method: [] as string[],
    path: [] as string[],
    contentType: [] as (string | null)[],
    status: [] as number[],
    reason: [] as string[],
    description: [] as string[],
    partner: [] as (string | null)[],
    body: [] as (string | null)[],
    bodyBytes: [] as (number | null)[],
    contentTypeBytes: [] as (number | null)[],
  };
  for (const r of rows) {
    columns.id.push(r.id);
    columns.received.push(r.receivedAt.getTime());
    columns.remote.push(r.remoteAddress ?? null);
    columns.method.push(r.method);
    columns.path.push(r.path);
    columns.contentType.push(r.contentType ?? null);
    columns.status.push(r.status);
    columns.reason.push(r.reason);
    columns.description.push(r.description);
    columns.partner.push(r.partner ?? null);
    columns.body.push(r.body ?? null);
    columns.bodyBytes.push(r.bodyBytes ?? null);
    columns.contentTypeBytes.push(r.contentTypeBytes ?? null);
  }
  await client.query(
    `INSERT INTO rejections (id, received_ms, remote_address, method, path, content_type, status, reason, description,
       partner, body, body_bytes, content_type_bytes)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
       $8::text[], $9::text[], $10::text[], $11::text[], $12::int[], $13::int[])`,
    Object.values(columns),
  );
}

export async function addSuppressed(
  client: Pick<ClientBase, 'query'>,
  counts: readonly SuppressedRejections[],
): Promise<void> {
  await client.query(
    `UPDATE rejections r SET suppressed = r.suppressed + c.n
     FROM (SELECT id, sum(n)::int AS n FROM unnest($1::text[], $2::int[]) AS u (id, n) GROUP BY id) c
     WHERE r.id = c.id`,
    [counts.map((c) => c.rejectionId), counts.map((c) => c.count)],
  );
}

/** Store.takeRejectionRows: one UPDATE of the one quota row (every SET reads the row as it was). */
export async function takeRejectionRows(
  db: Pick<ClientBase, 'query'>,
  minuteMs: number,
  want: number,
  cap: number,
): Promise<number> {
  const { rows } = await db.query<{ granted: number }>(
    `UPDATE rejection_quota SET
       granted = greatest(0, least($2::int, $3::int - CASE WHEN minute_ms >= $1 THEN taken ELSE 0 END)),
       taken = CASE WHEN minute_ms >= $1 THEN taken ELSE 0 END
         + greatest(0, least($2::int, $3::int - CASE WHEN minute_ms >= $1 THEN taken ELSE 0 END)),
       minute_ms = greatest(minute_ms, $1)
     WHERE id = 1
     RETURNING granted`,
    [minuteMs, want, cap],
  );
  return rows[0]?.granted ?? 0;
}
