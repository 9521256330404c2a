-- Observed usage over time, fed by the listener changes of host reports in the journal's transaction. A row holds how
-- many hosts started (added) and stopped (removed) listening with a process on a port, transport and reach in one
-- UTC day or month: the hosts listening at any time follow by adding up every earlier row, so a day without change
-- costs nothing, and a late report only adds to its own day. Process ids are those of the processes dictionary.
CREATE TABLE IF NOT EXISTS usage_days
(
    port       integer  NOT NULL,
    transport  smallint NOT NULL,
    -- 0: the host itself (anything listening on the port and transport).
    process_id integer  NOT NULL,
    reachable  boolean  NOT NULL,
    day        date     NOT NULL,
    added      integer  NOT NULL,
    removed    integer  NOT NULL,
    PRIMARY KEY (port, transport, process_id, reachable, day)
) PARTITION BY RANGE (day);

-- Rows of a month without a partition of their own yet (the partition job moves them when it creates it): a write is
-- never refused for want of a partition.
CREATE TABLE IF NOT EXISTS usage_days_default PARTITION OF usage_days DEFAULT;

-- The same per month, kept for ever (the daily rows only for the retention): what every older day adds up to.
CREATE TABLE IF NOT EXISTS usage_months
(
    port       integer  NOT NULL,
    transport  smallint NOT NULL,
    process_id integer  NOT NULL,
    reachable  boolean  NOT NULL,
    month      date     NOT NULL,
    added      integer  NOT NULL,
    removed    integer  NOT NULL,
    PRIMARY KEY (port, transport, process_id, reachable, month)
);

-- A process on a port and transport: when a host first and last started and stopped it, and its busiest closed day.
CREATE TABLE IF NOT EXISTS usage_lifetimes
(
    port            integer     NOT NULL,
    transport       smallint    NOT NULL,
    process_id      integer     NOT NULL,
    first_seen      timestamptz NOT NULL,
    last_added_at   timestamptz NOT NULL,
    last_removed_at timestamptz,
    peak_hosts      integer     NOT NULL DEFAULT 0,
    peak_day        date,
    PRIMARY KEY (port, transport, process_id)
);

-- Per closed UTC day, the hosts that reported anything (the share's denominator). A day is closed once.
CREATE TABLE IF NOT EXISTS usage_fleet_days
(
    day             date        PRIMARY KEY,
    reporting_hosts integer     NOT NULL,
    closed_at       timestamptz NOT NULL
);

-- The history's bounds: the first day daily rows are kept from (months before it were dropped past the retention;
-- their monthly rows stand in), and the first day of observations loaded in bulk (reporting began then, or earlier).
CREATE TABLE IF NOT EXISTS usage_state
(
    id           boolean PRIMARY KEY DEFAULT true CHECK (id),
    daily_since  date,
    loaded_since date
);

-- Reporting since: the first host's first report, read with every usage answer until a day has closed.
CREATE INDEX IF NOT EXISTS hosts_by_first_seen ON hosts (first_seen);
