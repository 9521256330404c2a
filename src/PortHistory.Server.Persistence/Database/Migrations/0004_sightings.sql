-- Sightings: a journal appended with COPY before a batch is acknowledged; port grains aggregate in memory,
-- checkpoint their state, and catch up from the journal (by per-writer watermark) when they activate.

-- Each server process that writes the journal is one writer; its sequence numbers commit in order.
CREATE TABLE IF NOT EXISTS sighting_writers
(
    writer_id    serial      PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);

-- One row per acknowledged batch: a batch sent again with the same id is counted once.
CREATE TABLE IF NOT EXISTS sighting_batches
(
    batch_id    uuid        PRIMARY KEY,
    writer_id   integer     NOT NULL,
    accepted    integer     NOT NULL,
    rejected    integer     NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS sighting_journal
(
    writer_id         integer     NOT NULL,
    seq               bigint      NOT NULL,
    port              integer     NOT NULL,
    transport         smallint    NOT NULL,
    host_hash         bigint      NOT NULL,
    host_ref          text        NOT NULL,
    observed_at       timestamptz NOT NULL,
    address_family    smallint    NOT NULL,
    local_address     text        NOT NULL,
    bind_scope        smallint    NOT NULL,
    socket_state      smallint    NOT NULL,
    process           text        NOT NULL,
    executable        text        NOT NULL,
    pid               integer     NOT NULL,
    username          text        NOT NULL,
    privileged        boolean     NOT NULL,
    container_id      text        NOT NULL,
    network_namespace text        NOT NULL,
    batch_id          uuid        NOT NULL,
    PRIMARY KEY (writer_id, seq)
);

-- Catch-up reads one port's rows past its watermarks.
CREATE INDEX IF NOT EXISTS sighting_journal_by_port ON sighting_journal (port, writer_id, seq);

-- What each port grain has checkpointed: journal rows at or below these are applied for good and can go.
CREATE TABLE IF NOT EXISTS port_watermarks
(
    port      integer NOT NULL,
    writer_id integer NOT NULL,
    seq       bigint  NOT NULL,
    PRIMARY KEY (port, writer_id)
);

-- Hosts that have reported anything: the denominator of "never observed".
CREATE TABLE IF NOT EXISTS reporting_hosts
(
    host_hash  bigint      PRIMARY KEY,
    first_seen timestamptz NOT NULL,
    last_seen  timestamptz NOT NULL
);

-- Query index of observed usage and verdicts, written by port grains when they checkpoint.
CREATE TABLE IF NOT EXISTS port_observations
(
    port             integer     NOT NULL,
    transport        smallint    NOT NULL,
    hosts            bigint      NOT NULL,
    sightings        bigint      NOT NULL,
    first_seen       timestamptz NOT NULL,
    last_seen        timestamptz NOT NULL,
    verdict          smallint    NOT NULL,
    reason           text        NOT NULL,
    assigned_service text,
    observed         text[]      NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (port, transport)
);

CREATE INDEX IF NOT EXISTS port_observations_by_verdict ON port_observations (verdict, port);
