import type { ClientBase } from 'pg';
import { LOCK_SPACE } from '../locks';
import { FIRST_MIGRATIONS } from './migrations-first';

/**
 * The PostgreSQL schema: the same data model as the SQLite store's, in
 * PostgreSQL types (bigint ms times, bytea digests). Ids sort byte-wise
 * (COLLATE "C") as in SQLite, since paging and "newest first" go by id order
 * whatever the server's locale. Bodies stay text: an event's body is the exact
 * JSON SkyPay sent for its extra fields, which jsonb would rewrite. Append
 * only: never edit a migration that has shipped.
 */
const MIGRATIONS: string[] = [
  ...FIRST_MIGRATIONS,
  `
  -- Reconciliation: what SkyPay's status query said of each payout, on its timeline. The same answer
  -- again is counted on the payout's latest row (checks, last_ms), so an open payout keeps a few rows, not one per
  -- interval; last_ms is also what makes a payout due again (one question per interval across the cluster).
  CREATE TABLE IF NOT EXISTS payout_reconciliations (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner text NOT NULL,
    control_number text NOT NULL,
    first_ms bigint NOT NULL,
    last_ms bigint NOT NULL,
    checks integer NOT NULL DEFAULT 1,
    status integer,
    status_desc text NOT NULL,
    outcome text NOT NULL,
    detail text NOT NULL,
    event_id text
  );
  CREATE INDEX IF NOT EXISTS payout_reconciliations_payout
    ON payout_reconciliations (partner, control_number, last_ms);
  `,
  `
  -- How many rejection rows every host together may still keep this minute: one row, whose minute_ms moves on
  -- with the clock. granted is what the last take got, read back by RETURNING.
  CREATE TABLE IF NOT EXISTS rejection_quota (
    id integer PRIMARY KEY CHECK (id = 1),
    minute_ms bigint NOT NULL,
    taken integer NOT NULL,
    granted integer NOT NULL
  );
  INSERT INTO rejection_quota (id, minute_ms, taken, granted) VALUES (1, 0, 0, 0) ON CONFLICT (id) DO NOTHING;
  `,
  `
  -- Who made and ended each silence as the credential tells it (the admin token's fingerprint, a dashboard session,
  -- the OS user of the CLI) and from which address, beside the name typed; NULL for silences made before.
  ALTER TABLE silences ADD COLUMN created_via text;
  ALTER TABLE silences ADD COLUMN created_from text;
  ALTER TABLE silences ADD COLUMN expired_via text;
  ALTER TABLE silences ADD COLUMN expired_from text;
  `,
  `
  -- Confirmation: whether SkyPay's status query has confirmed a final status a callback brought (AES-ECB callbacks
  -- have no integrity, so one may be forged). Payouts final before this were never asked: off. Reconciliation looks
  -- up the pending ones oldest first; they are few, so the index holds only them.
  ALTER TABLE payouts ADD COLUMN confirmation text NOT NULL DEFAULT 'off';
  CREATE INDEX payouts_confirmation_pending ON payouts (state_since_ms) WHERE confirmation = 'pending';
  `,
  `
  -- Deliveries are indexed only where a hot query looks: pending ones by destination and due time (claims),
  -- in-flight ones by destination and lease (the limit's count, expired leases), dead ones by destination (the
  -- dead listing, replay, the queue gauges). Delivered rows, nearly all of them, are in none of these, so a
  -- delivery's state changes rewrite small indexes; (state, next_attempt_ms) and (destination, state) over every
  -- row are superseded.
  DROP INDEX IF EXISTS deliveries_due;
  DROP INDEX IF EXISTS deliveries_destination;
  DROP INDEX IF EXISTS deliveries_pending;
  CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries (destination, next_attempt_ms) WHERE state = 'pending';
  CREATE INDEX IF NOT EXISTS deliveries_inflight ON deliveries (destination, lease_until_ms) WHERE state = 'inflight';
  CREATE INDEX IF NOT EXISTS deliveries_dead ON deliveries (destination, id) WHERE state = 'dead';
  `,
  `
  -- History: every filter the dashboard and the admin lists offer has an index that yields its rows newest first
  -- (by id), so a page reads about as many rows as it shows, however much history is kept. Callbacks' status and
  -- partner (skyrelay's own events have neither); skyrelay's own events by type (a callback's type is payout or
  -- finance, common enough to find by id order alone); deliveries by destination; payouts by state and partner;
  -- the rare ones (with anomalies, contradicted by SkyPay); rejections by reason. Arrival time with the id, so a
  -- time window's newest rows are picked from the index alone.
  CREATE INDEX IF NOT EXISTS events_status ON events (status, id) WHERE status IS NOT NULL;
  CREATE INDEX IF NOT EXISTS events_partner ON events (partner, id) WHERE partner IS NOT NULL;
  CREATE INDEX IF NOT EXISTS events_system ON events (type, id) WHERE source = 'skyrelay';
  DROP INDEX IF EXISTS events_received;
  CREATE INDEX IF NOT EXISTS events_received ON events (received_ms, id);
  CREATE INDEX IF NOT EXISTS deliveries_destination_id ON deliveries (destination, id);
  CREATE INDEX IF NOT EXISTS payouts_state ON payouts (state, id);
  CREATE INDEX IF NOT EXISTS payouts_partner ON payouts (partner, id);
  CREATE INDEX IF NOT EXISTS payouts_anomalies ON payouts (id, anomalies) WHERE anomalies > 0;
  -- Open payouts by state and time in it, with whether that state was reported stuck: the stuck check finds the
  -- unreported ones past their wait, and the stuck view and count read, from this index alone. Final payouts, nearly
  -- all of them, are in none of it.
  DROP INDEX IF EXISTS payouts_state_since;
  CREATE INDEX IF NOT EXISTS payouts_open ON payouts (state, state_since_ms, stuck_state, id)
    WHERE state NOT IN ('paid', 'cancelled', 'failed');
  CREATE INDEX IF NOT EXISTS payouts_contradicted ON payouts (id) WHERE confirmation = 'contradicted';
  CREATE INDEX IF NOT EXISTS rejections_reason ON rejections (reason, id);
  -- Payouts per state, kept by the transactions that change them (the overview's open count, the payout gauges)
  -- instead of counted over every payout. Each writer adds to a shard of its own, summed when read, so writers on
  -- several hosts never wait for one another's count.
  CREATE TABLE IF NOT EXISTS payout_counts (
    state text NOT NULL,
    shard integer NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (state, shard)
  );
  INSERT INTO payout_counts (state, shard, n) SELECT state, 0, count(*) FROM payouts GROUP BY state;
  -- Each destination's last delivered attempt and last failed one, kept as attempts finish (the destinations page),
  -- instead of found among every attempt; per writer's shard too, the latest of each kind read across them.
  CREATE TABLE IF NOT EXISTS destination_activity (
    destination text NOT NULL,
    shard integer NOT NULL,
    success_ms bigint,
    failure_ms bigint,
    failure_status integer,
    failure_error text,
    PRIMARY KEY (destination, shard)
  );
  INSERT INTO destination_activity (destination, shard, success_ms)
    SELECT d.destination, 0, max(a.started_ms) FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
    WHERE a.outcome = 'delivered' GROUP BY d.destination;
  INSERT INTO destination_activity (destination, shard, failure_ms, failure_status, failure_error)
    SELECT destination, 0, started_ms, status, error FROM (
      SELECT d.destination, a.started_ms, a.status, a.error,
        row_number() OVER (PARTITION BY d.destination ORDER BY a.started_ms DESC, a.id DESC) AS n
      FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE a.outcome <> 'delivered'
    ) AS last WHERE n = 1
    ON CONFLICT (destination, shard) DO UPDATE SET failure_ms = excluded.failure_ms,
      failure_status = excluded.failure_status, failure_error = excluded.failure_error;
  `,
  `
  -- The ledger: each event records where it came from (a callback, reconciliation, skyrelay itself) and how many
  -- routes its rules chose when it was stored, so a route that went missing since shows; a delivery counts the
  -- times it was replayed. NULL origin and routes: events stored before, read as their source says and not checked.
  ALTER TABLE events ADD COLUMN origin text;
  ALTER TABLE events ADD COLUMN routes integer;
  ALTER TABLE deliveries ADD COLUMN replays integer NOT NULL DEFAULT 0;
  -- Event ids compare byte-wise (COLLATE "C") everywhere else: a silenced route is found by its event's id through
  -- its primary key only when the two columns agree.
  ALTER TABLE event_silences ALTER COLUMN event_id SET DATA TYPE text COLLATE "C";
  UPDATE events SET origin = 'reconciliation'
    WHERE source = 'skypay' AND type = 'payout' AND body::jsonb ->> 'origin' = 'reconciliation';
  -- Callbacks answered 1000, per quarter hour (any zone's midnight falls on one), partner and outcome: a new event,
  -- a duplicate or a conflicting copy. Written in the transaction that stores the callback, so the day's counts
  -- cannot drift from what was acknowledged; carried over from the rows already kept for the days before.
  CREATE TABLE callback_tally (
    quarter_ms bigint NOT NULL,
    partner text NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('event', 'duplicate', 'copy')),
    count bigint NOT NULL,
    PRIMARY KEY (quarter_ms, partner, outcome)
  );
  INSERT INTO callback_tally (quarter_ms, partner, outcome, count)
    SELECT received_ms / 900000 * 900000, partner, 'event', count(*) FROM events
    WHERE source = 'skypay' AND origin IS NULL AND partner IS NOT NULL GROUP BY 1, 2;
  INSERT INTO callback_tally (quarter_ms, partner, outcome, count)
    SELECT last_seen_ms / 900000 * 900000, partner, 'duplicate', sum(duplicates) FROM events
    WHERE source = 'skypay' AND duplicates > 0 AND last_seen_ms IS NOT NULL AND partner IS NOT NULL GROUP BY 1, 2;
  INSERT INTO callback_tally (quarter_ms, partner, outcome, count)
    SELECT c.received_ms / 900000 * 900000, e.partner, 'copy', sum(1 + c.repeats) FROM callback_copies c
    JOIN events e ON e.id = c.event_id WHERE e.partner IS NOT NULL GROUP BY 1, 2;
  -- Each day's ledger as the daily summary computed it (day in skypay.timezone): raised once per day across the
  -- cluster (the row goes in with the summary's event), and the last day's unexplained rows for /metrics.
  CREATE TABLE ledger_days (
    day text PRIMARY KEY,
    timezone text NOT NULL,
    computed_ms bigint NOT NULL,
    balanced integer NOT NULL,
    unexplained integer NOT NULL,
    event_id text
  );
  `,
  `
  -- Each destination's breaker, shared by every process: closed (no row, or state closed), open after failures in
  -- a row (one probe per probe_interval_ms, the next at probe_ms, taken by a claim), or paused (by hand, or a
  -- webhook's 410 Gone) until resumed. alerted: a destination.unhealthy went out, so closing owes a recovered.
  CREATE TABLE destination_states (
    destination text PRIMARY KEY,
    state text NOT NULL DEFAULT 'closed',
    reason text,
    failures integer NOT NULL DEFAULT 0,
    since_ms bigint,
    probe_interval_ms bigint,
    probe_ms bigint,
    paused_by text,
    alerted integer NOT NULL DEFAULT 0,
    last_errors text,
    last_error_ms bigint,
    updated_ms bigint NOT NULL
  );
  `,
  `
  -- Ordered destinations (each payout's events one at a time, in the order stored). A delivery of a payout status to
  -- one carries its line and place: payout_key (the payout's partner and control number) and payout_seq (the
  -- event's number among the payout's ordered events, counted in payout_order under its row lock, so two writers of
  -- one payout number one after the other). held_since_ms: a dead one whose destination holds the payout's later
  -- events behind it (orderedOnDead "hold") until it is replayed or released. The index holds only the lines' live
  -- rows: what a claim looks at to tell whether a delivery's turn has come. deliveries_pending holds payout_key too,
  -- so what is due in no line is told from that index alone, as fast as before there were lines.
  ALTER TABLE deliveries ADD COLUMN payout_key text;
  ALTER TABLE deliveries ADD COLUMN payout_seq bigint;
  ALTER TABLE deliveries ADD COLUMN held_since_ms bigint;
  CREATE INDEX IF NOT EXISTS deliveries_lines ON deliveries (destination, payout_key, payout_seq)
    WHERE payout_key IS NOT NULL AND state <> 'delivered';
  DROP INDEX IF EXISTS deliveries_pending;
  CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries (destination, next_attempt_ms, payout_key)
    WHERE state = 'pending';
  CREATE TABLE IF NOT EXISTS payout_order (
    payout_key text PRIMARY KEY,
    last_seq bigint NOT NULL
  );
  `,
  `
  -- Listings by age alone (payouts in their state since before a time, any state): the matching ids read from here
  -- and sorted, where an id scan would pass every newer payout first. Open payouts are also in payouts_open.
  CREATE INDEX IF NOT EXISTS payouts_since ON payouts (state_since_ms, id);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Applies what is missing, each migration in its own transaction, under a
 * session advisory lock: instances starting together wait for the first one
 * to finish instead of racing it. Returns the schema version.
 */
export async function migrate(client: ClientBase, upTo = MIGRATIONS.length): Promise<number> {
  const target = Math.min(upTo, MIGRATIONS.length);
  await client.query('SELECT pg_advisory_lock($1, 0)', [LOCK_SPACE.migrations]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      applied_ms bigint NOT NULL
    )`);
    const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
    const current = rows[0]?.v ?? 0;
    for (let v = current; v < target; v++) {
      await client.query('BEGIN');
      try {
        await client.query(MIGRATIONS[v] as string);
        await client.query('INSERT INTO schema_migrations (version, applied_ms) VALUES ($1, $2)', [v + 1, Date.now()]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
    return Math.max(current, target);
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, 0)', [LOCK_SPACE.migrations]).catch(() => undefined);
  }
}
