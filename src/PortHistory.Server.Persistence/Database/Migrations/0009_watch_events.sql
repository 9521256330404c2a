-- The watch feed: events raised where a state change is decided (port grains, imports), read by Watch streams and the
-- webhook after a cursor. Inserts take a transaction-scoped advisory lock before drawing their id, so ids commit in
-- order and a reader past id N never later finds an id below N appear.
CREATE TABLE IF NOT EXISTS watch_events
(
    id        bigserial   PRIMARY KEY,
    -- Deterministic per change (port, transport, what and which revision): raising it again (a grain replaying its
    -- journal after a crash) stores nothing.
    event_key text        NOT NULL UNIQUE,
    kind      smallint    NOT NULL,
    port      integer     NOT NULL,
    transport smallint    NOT NULL,
    -- The contract's WatchEvent message, without cursor and raised_at (the columns hold them).
    event     bytea       NOT NULL,
    raised_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX IF NOT EXISTS watch_events_by_time ON watch_events (raised_at);

-- The highest id retention has deleted: a cursor below it would miss events, and is refused.
CREATE TABLE IF NOT EXISTS watch_retention
(
    single          boolean PRIMARY KEY DEFAULT true CHECK (single),
    deleted_through bigint  NOT NULL
);

INSERT INTO watch_retention (single, deleted_through) VALUES (true, 0) ON CONFLICT DO NOTHING;

-- How far each webhook sink has delivered (acknowledged by its receiver).
CREATE TABLE IF NOT EXISTS watch_webhook_cursors
(
    sink         text        PRIMARY KEY,
    delivered_at timestamptz NOT NULL DEFAULT now(),
    cursor       bigint      NOT NULL
);
