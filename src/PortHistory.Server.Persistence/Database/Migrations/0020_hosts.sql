-- Differential reporting: one row per reporting host (what its grain holds), the processes every host row and change
-- names by a small id, and the listener changes host grains pass on to port grains through the journal's writers.

-- Process identities, stored once: host rows and listener changes hold the id. Unique by a digest of the four fields
-- (computed by the application): an index on the fields themselves would refuse a long executable path.
CREATE TABLE IF NOT EXISTS processes
(
    process_id      serial  PRIMARY KEY,
    name            text    NOT NULL,
    executable      text    NOT NULL,
    program         text    NOT NULL,
    systemd_unit    text    NOT NULL,
    identity_digest bytea   NOT NULL UNIQUE
);

-- A host's current socket set and reporting state, written in the same transaction as the changes it causes. Every
-- write names the version it read (an activation that lost track of the row cannot overwrite a newer one).
CREATE TABLE IF NOT EXISTS hosts
(
    host_ref         text        PRIMARY KEY,
    host_hash        bigint      NOT NULL,
    version          bigint      NOT NULL,
    -- 1 online, 2 stale, 3 retired
    state            smallint    NOT NULL,
    state_since      timestamptz NOT NULL,
    epoch_id         bigint      NOT NULL,
    epoch_started_at timestamptz NOT NULL,
    seq              bigint      NOT NULL,
    set_hash         bytea       NOT NULL,
    -- The socket set, encoded by the application (HostSocketCodec): a few bytes per socket.
    sockets          bytea       NOT NULL,
    socket_count     integer     NOT NULL,
    host_group       text        NOT NULL,
    agent_version    text        NOT NULL,
    privileged       boolean     NOT NULL,
    dropped_reports  bigint      NOT NULL,
    dropped_bytes    bigint      NOT NULL,
    first_seen       timestamptz NOT NULL,
    -- Written when it moved by more than the configured interval, in batches: not at every heartbeat.
    last_seen        timestamptz NOT NULL,
    last_snapshot_at timestamptz,
    retired_reason   text
);

CREATE INDEX IF NOT EXISTS hosts_by_state_seen ON hosts (state, last_seen);

-- Listener changes (a host started or stopped listening on a port with a process, went stale, came back), added up
-- per flush: numbered in the same sequence as the sighting journal of their writer, applied and compacted alike.
CREATE TABLE IF NOT EXISTS listener_changes
(
    writer_id  integer     NOT NULL,
    seq        bigint      NOT NULL,
    port       integer     NOT NULL,
    transport  smallint    NOT NULL,
    process_id integer     NOT NULL,
    -- 1 added, 2 removed, 3 went stale, 4 came back, 5 removed while stale
    kind       smallint    NOT NULL,
    reachable  boolean     NOT NULL,
    hosts      integer     NOT NULL,
    changed_at timestamptz NOT NULL,
    host_group text        NOT NULL,
    PRIMARY KEY (writer_id, seq)
);

CREATE INDEX IF NOT EXISTS listener_changes_by_port ON listener_changes (port, writer_id, seq);
