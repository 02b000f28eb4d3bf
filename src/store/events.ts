import type Database from 'better-sqlite3';
import type { RelayEvent } from '../event';
import type { NewDelivery, NewRejection, SaveOutcome, SuppressedRejections } from './types';

export interface EventWrite {
  event: RelayEvent;
  deliveries: NewDelivery[];
}

/**
 * Prepares the statements once and returns the function the group-commit
 * batcher calls: one IMMEDIATE transaction for the whole batch, so the
 * dedup check and the insert cannot interleave with another process.
 */
export function prepareEventWriter(db: Database.Database): (writes: EventWrite[]) => SaveOutcome[] {
  const insertEvent = db.prepare(`
    INSERT INTO events (id, source, type, partner, control_number, pay_type, status, deal_time, body, received_ms)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (control_number, pay_type, deal_time) DO NOTHING`);
  const countDuplicate = db.prepare(`
    UPDATE events SET duplicates = duplicates + 1, last_seen_ms = ?
    WHERE control_number = ? AND pay_type = ? AND deal_time = ?
    RETURNING id, duplicates`);
  const insertDelivery = db.prepare(`
    INSERT INTO deliveries (id, event_id, destination, rules, state, next_attempt_ms, created_ms, updated_ms)
    VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)`);

  const writeOne = ({ event, deliveries }: EventWrite): SaveOutcome => {
    const receivedMs = Date.parse(event.receivedAt);
    const payout = event.source === 'skypay' ? event : undefined;
    // Positional parameters: binding from an object costs a property lookup per name on every insert.
    const inserted = insertEvent.run(
      event.id, event.source, event.type, payout?.partner ?? null, payout?.controlNumber ?? null, payout?.payType ?? null,
      payout?.status ?? null, payout?.dealTime ?? null, JSON.stringify(event), receivedMs,
    );
    if (inserted.changes === 0 && payout) {
      const row = countDuplicate.get(receivedMs, payout.controlNumber, payout.payType, payout.dealTime) as
        { id: string; duplicates: number };
      return { eventId: row.id, duplicate: true, duplicates: row.duplicates };
    }
    for (const d of deliveries) {
      insertDelivery.run(d.id, event.id, d.destination, JSON.stringify(d.rules), receivedMs, receivedMs, receivedMs);
    }
    return { eventId: event.id, duplicate: false, duplicates: 0 };
  };

  const writeAll = db.transaction((writes: EventWrite[]) => writes.map(writeOne));
  return (writes) => writeAll.immediate(writes);
}

export function prepareRejectionWriter(db: Database.Database): (rejections: NewRejection[]) => void[] {
  const insert = db.prepare(`
    INSERT INTO rejections (id, received_ms, remote_address, method, path, content_type, status, reason, description,
      partner, body, body_bytes, content_type_bytes)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const writeAll = db.transaction((rows: NewRejection[]) => rows.map((r) => {
    insert.run(r.id, r.receivedAt.getTime(), r.remoteAddress ?? null, r.method, r.path, r.contentType ?? null,
      r.status, r.reason, r.description, r.partner ?? null, r.body ?? null, r.bodyBytes ?? null,
      r.contentTypeBytes ?? null);
  }));
  return (rows) => writeAll.immediate(rows);
}

export function prepareSuppressedWriter(db: Database.Database): (counts: SuppressedRejections[]) => void {
  const add = db.prepare('UPDATE rejections SET suppressed = suppressed + ? WHERE id = ?');
  const addAll = db.transaction((counts: SuppressedRejections[]) => {
    for (const c of counts) add.run(c.count, c.rejectionId);
  });
  return (counts) => addAll.immediate(counts);
}
