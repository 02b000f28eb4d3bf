/**
 * The first SQLite schema versions, in order; src/store/sqlite/migrations.ts lists them before the later ones.
 * Shipped: never edit.
 */
export const FIRST_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE events (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    type TEXT NOT NULL,
    partner TEXT,
    control_number TEXT,
    pay_type INTEGER,
    status TEXT,
    deal_time TEXT,
    body TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    duplicates INTEGER NOT NULL DEFAULT 0,
    last_seen_ms INTEGER
  );
  -- A callback's identity. NULLs are distinct, so system events never collide.
  CREATE UNIQUE INDEX events_identity ON events(control_number, pay_type, deal_time);
  CREATE INDEX events_received ON events(received_ms);

  CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    destination TEXT NOT NULL,
    rules TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'inflight', 'delivered', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    lease_until_ms INTEGER,
    lease_owner TEXT,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    last_status INTEGER,
    last_error TEXT
  );
  CREATE INDEX deliveries_due ON deliveries(state, next_attempt_ms);
  CREATE INDEX deliveries_event ON deliveries(event_id);
  CREATE INDEX deliveries_destination ON deliveries(destination, state);

  CREATE TABLE attempts (
    id INTEGER PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    started_ms INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    status INTEGER,
    error TEXT,
    response TEXT
  );
  CREATE INDEX attempts_delivery ON attempts(delivery_id);

  CREATE TABLE rejections (
    id TEXT PRIMARY KEY,
    received_ms INTEGER NOT NULL,
    remote_address TEXT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    content_type TEXT,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    description TEXT NOT NULL,
    partner TEXT,
    body TEXT
  );
  CREATE INDEX rejections_received ON rejections(received_ms);
  `,
  `
  -- Cluster-wide metric totals: every process adds its deltas here, so a
  -- scrape of any one process sees all of them, and totals survive reloads.
  CREATE TABLE metric_series (
    series TEXT PRIMARY KEY,
    family TEXT NOT NULL,
    type TEXT NOT NULL,
    help TEXT NOT NULL,
    sample TEXT NOT NULL,
    labels TEXT NOT NULL,
    value REAL NOT NULL
  );
  -- Each live process's own process metrics (memory, CPU, event loop), by instance.
  CREATE TABLE metric_processes (
    instance TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    body TEXT NOT NULL
  );
  -- Rejection-alert rate limit per reason and destination, shared by processes and restarts.
  CREATE TABLE alert_windows (
    reason TEXT NOT NULL,
    destination TEXT NOT NULL,
    opened_ms INTEGER NOT NULL,
    folded INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    last_partner TEXT,
    last_remote_address TEXT,
    last_description TEXT,
    PRIMARY KEY (reason, destination)
  );
  -- A one-row table /readyz writes to when the last real write failed.
  CREATE TABLE health_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    written_ms INTEGER NOT NULL
  );
  CREATE INDEX deliveries_state_updated ON deliveries(state, updated_ms);
  `,
  `
  -- The identity of every callback ever accepted, partner included: dedup must outlive the event, which retention
  -- removes. No body, only a digest of the content, to tell a conflicting copy from a duplicate. Keys carried
  -- over from existing events get their digest when a copy is first compared with the event.
  CREATE TABLE callback_keys (
    partner TEXT NOT NULL,
    control_number TEXT NOT NULL,
    pay_type INTEGER NOT NULL,
    deal_time TEXT NOT NULL,
    event_id TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    digest BLOB,
    PRIMARY KEY (partner, control_number, pay_type, deal_time)
  ) WITHOUT ROWID;
  CREATE INDEX callback_keys_received ON callback_keys(received_ms);
  INSERT OR IGNORE INTO callback_keys (partner, control_number, pay_type, deal_time, event_id, received_ms)
    SELECT partner, control_number, pay_type, deal_time, id, received_ms FROM events
    WHERE source = 'skypay' AND partner IS NOT NULL AND control_number IS NOT NULL AND pay_type IS NOT NULL
      AND deal_time IS NOT NULL
    ORDER BY received_ms;
  -- The old identity had no partner: another partner's callback for the same payout is an event of its own.
  DROP INDEX events_identity;
  CREATE INDEX events_control_number ON events(control_number);
  -- Copies that came with a known identity but different content, linked to the first event; the same
  -- different content again is counted on its copy, not kept twice.
  CREATE TABLE callback_copies (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    body TEXT NOT NULL,
    digest BLOB NOT NULL,
    repeats INTEGER NOT NULL DEFAULT 0,
    UNIQUE (event_id, digest)
  );
  CREATE INDEX callback_copies_received ON callback_copies(received_ms);
  `,
  `
  -- Refused bodies and echoed headers are kept cut short: how long they were, and how many refusals
  -- of the same reason and address were only counted (not kept) after this row in its minute.
  ALTER TABLE rejections ADD COLUMN body_bytes INTEGER;
  ALTER TABLE rejections ADD COLUMN content_type_bytes INTEGER;
  ALTER TABLE rejections ADD COLUMN suppressed INTEGER NOT NULL DEFAULT 0;
  `,
  `
  -- Jobs that run in one process at a time (retention, the alert-window closer): who holds each, until when.
  -- An expired row belongs to a process that died; the next one to ask takes it.
  CREATE TABLE job_locks (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until_ms INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  `
  -- Silences: while one is active, the events its matchers match get no deliveries to the destinations it
  -- covers. Kept after they end, for the audit (who created and expired each, when).
  CREATE TABLE silences (
    id TEXT PRIMARY KEY,
    matchers TEXT NOT NULL,
    destinations TEXT,
    starts_ms INTEGER NOT NULL,
    ends_ms INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    comment TEXT NOT NULL,
    expired_by TEXT,
    expired_ms INTEGER
  );
  CREATE INDEX silences_current ON silences(ends_ms) WHERE expired_ms IS NULL;
  -- The routes an active silence held back: an event records "silenced by <id>" per destination instead of a delivery.
  CREATE TABLE event_silences (
    event_id TEXT NOT NULL,
    destination TEXT NOT NULL,
    silence_id TEXT NOT NULL,
    rules TEXT NOT NULL,
    PRIMARY KEY (event_id, destination)
  );
  `,
  `
  -- The dashboard's chart: callbacks answered per minute and outcome (accepted, duplicate, rejected), summed over
  -- every process; only the last hours are kept.
  CREATE TABLE IF NOT EXISTS callback_minutes (
    minute_ms INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (minute_ms, outcome)
  ) WITHOUT ROWID;
  -- Dashboard sessions signed out before they expire: their cookies are refused until then.
  CREATE TABLE IF NOT EXISTS ui_sessions_ended (
    id TEXT PRIMARY KEY,
    expires_ms INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  `
  -- Grouping: an event routed to a grouping destination becomes a member of its group instead of a
  -- delivery; when the group's window closes, one message (an event of skyrelay's own, with one delivery) carries
  -- every waiting member, and message_event_id records which.
  CREATE TABLE group_members (
    event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    destination TEXT NOT NULL,
    group_key TEXT NOT NULL,
    rules TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    message_event_id TEXT,
    PRIMARY KEY (event_id, destination)
  );
  CREATE INDEX group_members_waiting ON group_members(destination, group_key, created_ms)
    WHERE message_event_id IS NULL;
  CREATE INDEX group_members_message ON group_members(message_event_id);
  -- When each group last sent: the next message waits for its interval. Its row is also the group's lock.
  CREATE TABLE group_windows (
    destination TEXT NOT NULL,
    group_key TEXT NOT NULL,
    last_flush_ms INTEGER,
    PRIMARY KEY (destination, group_key)
  ) WITHOUT ROWID;
  -- Rate-limited destinations (Slack): nothing is claimed for one before next_ms, in any process.
  CREATE TABLE destination_slots (
    destination TEXT PRIMARY KEY,
    next_ms INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  `
  -- Claims read each destination's pending deliveries oldest first, no more than it has room for.
  CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries(state, destination, next_attempt_ms);
  `,
  `
  -- Payouts: one row per (partner, control number), judged and updated in the transaction of each of its
  -- events. Built here from the events already stored, so an upgrade keeps each payout's history; events stored
  -- before this have no transition of their own.
  CREATE TABLE payouts (
    id TEXT NOT NULL UNIQUE,
    partner TEXT NOT NULL,
    control_number TEXT NOT NULL,
    state TEXT NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    last_deal_time TEXT NOT NULL,
    state_since_ms INTEGER NOT NULL,
    stuck_state TEXT,
    anomalies INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (partner, control_number)
  ) WITHOUT ROWID;
  CREATE INDEX payouts_state_since ON payouts(state, state_since_ms);
  CREATE INDEX payouts_first_seen ON payouts(first_seen_ms);
  CREATE INDEX payouts_control_number ON payouts(control_number);
  WITH p AS (
    SELECT id, partner, control_number, pay_type, deal_time, received_ms,
      coalesce(last_seen_ms, received_ms) AS seen_ms, pay_type IN (2, 3, 4) AS final
    FROM events
    WHERE source = 'skypay' AND partner IS NOT NULL AND control_number IS NOT NULL AND pay_type IS NOT NULL
      AND deal_time IS NOT NULL
  ), g AS (
    SELECT partner, control_number, min(id) AS first_id, min(received_ms) AS first_ms, max(seen_ms) AS last_ms,
      max(deal_time) AS last_deal, count(DISTINCT CASE WHEN final THEN pay_type END) AS finals
    FROM p GROUP BY partner, control_number
  ), s AS (
    -- The state: the first final status received, else the newest status by dealTime.
    SELECT partner, control_number, pay_type, received_ms, row_number() OVER (
      PARTITION BY partner, control_number
      ORDER BY final DESC, CASE WHEN final THEN received_ms END ASC, deal_time DESC, received_ms DESC) AS rn
    FROM p
  )
  INSERT INTO payouts (id, partner, control_number, state, first_seen_ms, last_seen_ms, last_deal_time,
    state_since_ms, stuck_state, anomalies)
  SELECT 'pay_' || substr(g.first_id, 5), g.partner, g.control_number,
    CASE s.pay_type WHEN 1 THEN 'uploaded' WHEN 2 THEN 'paid' WHEN 3 THEN 'cancelled' WHEN 4 THEN 'failed'
      WHEN 5 THEN 'amendedSuccess' ELSE 'amendedFailure' END,
    g.first_ms, g.last_ms, g.last_deal, s.received_ms, NULL, max(g.finals - 1, 0)
  FROM g JOIN s ON s.partner = g.partner AND s.control_number = g.control_number AND s.rn = 1;
  `,
];
