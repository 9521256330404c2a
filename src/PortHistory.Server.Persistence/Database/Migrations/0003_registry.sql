-- PortHistory's registry history: the editions received, the history generations, and the query-side index
-- that cross-port reads (FindService, DiffEditions, ListPorts) use instead of activating port grains.

-- Every edition received, with its bytes. 'pending' until a generation containing it commits.
CREATE TABLE IF NOT EXISTS editions
(
    id                   text        PRIMARY KEY,
    sha256               text        NOT NULL UNIQUE,
    format               smallint    NOT NULL,
    title                text        NOT NULL,
    effective_date       date        NOT NULL,
    date_source          smallint    NOT NULL,
    source               text        NOT NULL,
    byte_count           bigint      NOT NULL,
    record_count         integer     NOT NULL,
    warning_count        integer     NOT NULL,
    content              bytea       NOT NULL,
    status               text        NOT NULL CHECK (status IN ('pending', 'complete')),
    -- Position in the history order of the current generation (effective date, format, id).
    rank                 integer,
    received_at          timestamptz NOT NULL DEFAULT now(),
    committed_at         timestamptz,
    committed_generation bigint
);

CREATE SEQUENCE IF NOT EXISTS registry_generation_seq;

-- A generation is one recomputation of the history. Port grains stage timelines for a generation; they become
-- visible when it is 'committed'. A generation left 'applying' by a crash is marked 'aborted' by the next import.
CREATE TABLE IF NOT EXISTS registry_generations
(
    generation  bigint      PRIMARY KEY,
    state       text        NOT NULL CHECK (state IN ('applying', 'committed', 'aborted')),
    edition_ids text[]      NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);

-- Content hash of each port's committed timelines: an import restages only the ports whose hash changes.
CREATE TABLE IF NOT EXISTS port_registry_hashes
(
    port       integer PRIMARY KEY CHECK (port BETWEEN 0 AND 65535),
    hash       bytea   NOT NULL,
    generation bigint  NOT NULL
);

-- One row per version of each port segment (a single port or a range sharing every version), per transport.
-- Ranks are positions in the history order of the generation the rows were written for; `version` is the
-- contract's TimelineVersion message, `state_key` a hash of what the version says (equal keys, equal meaning).
CREATE TABLE IF NOT EXISTS index_versions
(
    transport     smallint NOT NULL,
    port_first    integer  NOT NULL,
    port_last     integer  NOT NULL,
    version_index integer  NOT NULL,
    from_rank     integer  NOT NULL,
    through_rank  integer  NOT NULL,
    status        smallint NOT NULL,
    state_key     bytea    NOT NULL,
    version       bytea    NOT NULL,
    PRIMARY KEY (transport, port_first, version_index)
);

CREATE INDEX IF NOT EXISTS index_versions_by_rank ON index_versions (from_rank, through_rank);

-- The same for registrations without a port, per (name, transport).
CREATE TABLE IF NOT EXISTS index_name_only
(
    transport     smallint NOT NULL,
    name_lower    text     NOT NULL,
    version_index integer  NOT NULL,
    from_rank     integer  NOT NULL,
    through_rank  integer  NOT NULL,
    state_key     bytea    NOT NULL,
    version       bytea    NOT NULL,
    PRIMARY KEY (transport, name_lower, version_index)
);

-- Every (port range, transport, period) a name or alias held: the contract's ServiceHolding message.
CREATE TABLE IF NOT EXISTS index_holdings
(
    name_lower text    NOT NULL,
    ordinal    integer NOT NULL,
    holding    bytea   NOT NULL,
    PRIMARY KEY (name_lower, ordinal)
);

-- Rename links (old name → new name on a port and transport): the contract's RenameLink message.
CREATE TABLE IF NOT EXISTS index_renames
(
    ordinal    integer PRIMARY KEY,
    from_lower text    NOT NULL,
    to_lower   text    NOT NULL,
    link       bytea   NOT NULL
);
