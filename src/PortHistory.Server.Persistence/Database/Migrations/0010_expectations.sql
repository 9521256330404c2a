-- Fleet expectations: what operators expect to run on a (port, transport), for every host ('') or one host group.
CREATE TABLE IF NOT EXISTS expectations
(
    port       integer     NOT NULL CHECK (port BETWEEN 0 AND 65535),
    transport  smallint    NOT NULL CHECK (transport BETWEEN 1 AND 4),
    process    text        NOT NULL CHECK (length(process) BETWEEN 1 AND 256),
    host_group text        NOT NULL DEFAULT '' CHECK (length(host_group) <= 64),
    note       text        NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    set_by     text        NOT NULL,
    set_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (port, transport, process, host_group)
);

-- One row: bumped by every change, so a silo can tell whether its cached set is at least as new as a change it is told of.
CREATE TABLE IF NOT EXISTS expectations_version
(
    single  boolean PRIMARY KEY DEFAULT true CHECK (single),
    version bigint  NOT NULL
);
INSERT INTO expectations_version (single, version) VALUES (true, 0) ON CONFLICT DO NOTHING;
