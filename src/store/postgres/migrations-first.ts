/**
 * The first PostgreSQL schema versions, in order; src/store/postgres/migrations.ts lists them before the later ones.
 * Shipped: never edit.
 */
export const FIRST_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE events (
    id text COLLATE "C" PRIMARY KEY,
    source text NOT NULL,
    type text NOT NULL,
    partner text,
    control_number text,
    pay_type integer,
    status text,
    deal_time text,
    body text NOT NULL,
    received_ms bigint NOT NULL,
    duplicates integer NOT NULL DEFAULT 0,
    last_seen_ms bigint
  );
  CREATE INDEX events_received ON events (received_ms);
  CREATE INDEX events_control_number ON events (control_number);

  CREATE TABLE deliveries (
    id text COLLATE "C" PRIMARY KEY,
    event_id text COLLATE "C" NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    destination text NOT NULL,
    rules text NOT NULL,
    state text NOT NULL CHECK (state IN ('pending', 'inflight', 'delivered', 'dead')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_ms bigint NOT NULL,
    lease_until_ms bigint,
    lease_owner text,
    created_ms bigint NOT NULL,
    updated_ms bigint NOT NULL,
    last_status integer,
    last_error text
  );
  CREATE INDEX deliveries_due ON deliveries (state, next_attempt_ms);
  CREATE INDEX deliveries_event ON deliveries (event_id);
  CREATE INDEX deliveries_destination ON deliveries (destination, state);
  CREATE INDEX deliveries_state_updated ON deliveries (state, updated_ms);

  CREATE TABLE attempts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id text COLLATE "C" NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempt integer NOT NULL,
    started_ms bigint NOT NULL,
    duration_ms bigint NOT NULL,
    outcome text NOT NULL,
    status integer,
    error text,
    response text
  );
  CREATE INDEX attempts_delivery ON attempts (delivery_id);

  CREATE TABLE rejections (
    id text COLLATE "C" PRIMARY KEY,
    received_ms bigint NOT NULL,
    remote_address text,
    method text NOT NULL,
    path text NOT NULL,
    content_type text,
    status integer NOT NULL,
    reason text NOT NULL,
    description text NOT NULL,
    partner text,
    body text,
    body_bytes integer,
    content_type_bytes integer,
    suppressed integer NOT NULL DEFAULT 0
  );
  CREATE INDEX rejections_received ON rejections (received_ms);

  -- The identity of every callback ever accepted, kept after retention removes its event so that dedup outlives it;
  -- only a digest of the content, to tell a conflicting copy from a duplicate.
  CREATE TABLE callback_keys (
    partner text NOT NULL,
    control_number text NOT NULL,
    pay_type integer NOT NULL,
    deal_time text NOT NULL,
    event_id text COLLATE "C" NOT NULL,
    received_ms bigint NOT NULL,
    digest bytea,
    PRIMARY KEY (partner, control_number, pay_type, deal_time)
  );
  CREATE INDEX callback_keys_received ON callback_keys (received_ms);

  CREATE TABLE callback_copies (
    id text COLLATE "C" PRIMARY KEY,
    event_id text COLLATE "C" NOT NULL,
    received_ms bigint NOT NULL,
    body text NOT NULL,
    digest bytea NOT NULL,
    repeats integer NOT NULL DEFAULT 0,
    UNIQUE (event_id, digest)
  );
  CREATE INDEX callback_copies_received ON callback_copies (received_ms);

  -- Cluster-wide metric totals: every instance adds its deltas, so a scrape of any one answers for all.
  CREATE TABLE metric_series (
    series text PRIMARY KEY,
    family text NOT NULL,
    type text NOT NULL,
    help text NOT NULL,
    sample text NOT NULL,
    labels text NOT NULL,
    value double precision NOT NULL
  );
  CREATE TABLE metric_processes (
    instance text PRIMARY KEY,
    pid integer NOT NULL,
    updated_ms bigint NOT NULL,
    body text NOT NULL
  );

  -- Rejection-alert rate limit per reason and destination, shared by every instance.
  CREATE TABLE alert_windows (
    reason text NOT NULL,
    destination text NOT NULL,
    opened_ms bigint NOT NULL,
    folded integer NOT NULL DEFAULT 0,
    last_status integer,
    last_partner text,
    last_remote_address text,
    last_description text,
    PRIMARY KEY (reason, destination)
  );

  -- The one row /readyz writes to when the last real write failed.
  CREATE TABLE health_probe (
    id integer PRIMARY KEY CHECK (id = 1),
    written_ms bigint NOT NULL
  );
  `,
  `
  -- Silences: while one is active, the events its matchers match get no deliveries to the destinations it
  -- covers. Kept after they end, for the audit (who created and expired each, when).
  CREATE TABLE silences (
    id text PRIMARY KEY,
    matchers text NOT NULL,
    destinations text,
    starts_ms bigint NOT NULL,
    ends_ms bigint NOT NULL,
    created_by text NOT NULL,
    created_ms bigint NOT NULL,
    comment text NOT NULL,
    expired_by text,
    expired_ms bigint
  );
  CREATE INDEX silences_current ON silences(ends_ms) WHERE expired_ms IS NULL;
  -- The routes an active silence held back: an event records "silenced by <id>" per destination instead of a delivery.
  CREATE TABLE event_silences (
    event_id text NOT NULL,
    destination text NOT NULL,
    silence_id text NOT NULL,
    rules text NOT NULL,
    PRIMARY KEY (event_id, destination)
  );
  `,
  `
  -- The dashboard's chart: callbacks answered per minute and outcome (accepted, duplicate, rejected), summed over
  -- every instance; only the last hours are kept.
  CREATE TABLE IF NOT EXISTS callback_minutes (
    minute_ms bigint NOT NULL,
    outcome text COLLATE "C" NOT NULL,
    count bigint NOT NULL,
    PRIMARY KEY (minute_ms, outcome)
  );
  -- Dashboard sessions signed out before they expire: their cookies are refused until then.
  CREATE TABLE IF NOT EXISTS ui_sessions_ended (
    id text COLLATE "C" PRIMARY KEY,
    expires_ms bigint NOT NULL
  );
  `,
  `
  -- Grouping: an event routed to a grouping destination becomes a member of its group instead of a
  -- delivery; when the group's window closes, one message (an event of skyrelay's own, with one delivery) carries
  -- every waiting member, and message_event_id records which.
  CREATE TABLE group_members (
    event_id text COLLATE "C" NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    destination text NOT NULL,
    group_key text NOT NULL,
    rules text NOT NULL,
    created_ms bigint NOT NULL,
    message_event_id text COLLATE "C",
    PRIMARY KEY (event_id, destination)
  );
  CREATE INDEX group_members_waiting ON group_members (destination, group_key, created_ms)
    WHERE message_event_id IS NULL;
  CREATE INDEX group_members_message ON group_members (message_event_id);
  -- When each group last sent: the next message waits for its interval. Its row is also the group's lock.
  CREATE TABLE group_windows (
    destination text NOT NULL,
    group_key text NOT NULL,
    last_flush_ms bigint,
    PRIMARY KEY (destination, group_key)
  );
  -- Rate-limited destinations (Slack): nothing is claimed for one before next_ms, on any host.
  CREATE TABLE destination_slots (
    destination text PRIMARY KEY,
    next_ms bigint NOT NULL
  );
  `,
  `
  -- Claims read each destination's pending deliveries oldest first, no more than it has room for.
  CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries (state, destination, next_attempt_ms);
  `,
  `
  -- Payouts: one row per (partner, control number), judged and updated in the transaction of each of its
  -- events (the row is locked FOR UPDATE). Built here from the events already stored, so an upgrade keeps each
  -- payout's history; events stored before this have no transition of their own.
  CREATE TABLE payouts (
    id text COLLATE "C" NOT NULL UNIQUE,
    partner text NOT NULL,
    control_number text NOT NULL,
    state text NOT NULL,
    first_seen_ms bigint NOT NULL,
    last_seen_ms bigint NOT NULL,
    last_deal_time text NOT NULL,
    state_since_ms bigint NOT NULL,
    stuck_state text,
    anomalies integer NOT NULL DEFAULT 0,
    PRIMARY KEY (partner, control_number)
  );
  CREATE INDEX payouts_state_since ON payouts (state, state_since_ms);
  CREATE INDEX payouts_first_seen ON payouts (first_seen_ms);
  CREATE INDEX payouts_control_number ON payouts (control_number);
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
    g.first_ms, g.last_ms, g.last_deal, s.received_ms, NULL, greatest(g.finals - 1, 0)
  FROM g JOIN s ON s.partner = g.partner AND s.control_number = g.control_number AND s.rn = 1;
  `,
];
