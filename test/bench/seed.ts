import { migrateSqlite, openSqliteFile } from '../support/sqlite';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const SCRAMBLE = 2_654_435_761n;
const FOURTEEN_DIGITS = 100_000_000_000_000n;
const STATUSES = ['upload', 'paid', 'cancel', 'failure', 'amendedSuccess', 'amendedFailure'] as const;
const DAY_MS = 86_400_000;

/** The daemon's id format (time-sortable, base32), for a given time and a unique counter. */
function formatId(prefix: string, ms: number, n: number): string {
  let head = '';
  for (let i = 0, t = ms; i < 10; i++, t = Math.floor(t / 32)) head = ALPHABET[t % 32] + head;
  let tail = '';
  for (let i = 0, c = n; i < 16; i++, c = Math.floor(c / 32)) tail = ALPHABET[c % 32] + tail;
  return `${prefix}_${head}${tail}`;
}

function formatDealTime(ms: number): string {
  return new Date(ms + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * Fills a store with `count` already-delivered events the way a daemon that
 * has run for a month leaves it: an event, its delivered webhook delivery
 * and one attempt each, spread over 30 days (inside retention), control
 * numbers scattered over the identity index. Written directly with big
 * transactions and no fsync, through the daemon's own migrations, so the
 * schema is exactly the shipped one.
 */
export function seedStore(dbPath: string, count: number, report: (done: number) => void): void {
  const db = openSqliteFile(dbPath);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  migrateSqlite(db);
  const insertEvent = db.prepare(`INSERT INTO events
    (id, source, type, partner, control_number, pay_type, status, deal_time, body, received_ms)
    VALUES (?, 'skypay', 'payout', 'AppName@skypay', ?, ?, ?, ?, ?, ?)`);
  const insertDelivery = db.prepare(`INSERT INTO deliveries
    (id, event_id, destination, rules, state, attempts, next_attempt_ms, created_ms, updated_ms, last_status)
    VALUES (?, ?, 'sink', '["all"]', 'delivered', 1, ?, ?, ?, 200)`);
  const insertAttempt =
    db.prepare(`INSERT INTO attempts (delivery_id, attempt, started_ms, duration_ms, outcome, status, response)
    VALUES (?, 1, ?, 4, 'delivered', 200, 'ok')`);
  const start = Date.now() - 30 * DAY_MS;
  const step = (30 * DAY_MS) / count;
  const writeChunk = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const receivedMs = Math.floor(start + i * step);
      const payType = (i % 6) + 1;
      const controlNumber = `S${((BigInt(i + 1) * SCRAMBLE) % FOURTEEN_DIGITS).toString().padStart(14, '0')}`;
      const dealTime = formatDealTime(receivedMs - 2_000);
      const id = formatId('evt', receivedMs, i);
      const body = JSON.stringify({
        id,
        source: 'skypay',
        type: 'payout',
        action: 'payoutQueuePayout',
        partner: 'AppName@skypay',
        controlNumber,
        payType,
        status: STATUSES[payType - 1],
        dealTime,
        dealTimeUtc: new Date(receivedMs - 2_000).toISOString(),
        failDescription: payType === 4 || payType === 6 ? 'Beneficiary account closed' : null,
        referenceNumber: payType === 2 ? `MLA${controlNumber}` : null,
        extra: {},
        receivedAt: new Date(receivedMs).toISOString(),
        duplicates: 0,
      });
      insertEvent.run(id, controlNumber, payType, STATUSES[payType - 1], dealTime, body, receivedMs);
      const deliveryId = formatId('dlv', receivedMs, i);
      insertDelivery.run(deliveryId, id, receivedMs, receivedMs, receivedMs + 5);
      insertAttempt.run(deliveryId, receivedMs + 1);
    }
  });
  const chunk = 50_000;
  for (let from = 0; from < count; from += chunk) {
    writeChunk(from, Math.min(count, from + chunk));
    report(Math.min(count, from + chunk));
  }
  // The dedup keys a daemon would have written with these events.
  db.exec(`INSERT OR IGNORE INTO callback_keys (partner, control_number, pay_type, deal_time, event_id, received_ms)
    SELECT partner, control_number, pay_type, deal_time, id, received_ms FROM events`);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}
