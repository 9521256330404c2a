-- Last-seen times written by the hosts' pulse (every few minutes per host, in batches) in a narrow table of their own.
-- Written into hosts, each of those writes rewrote the whole host row with its socket set and, last_seen being indexed,
-- added index entries too: about 2 KB of WAL a write right after a checkpoint, against about 300 bytes here, where a
-- page holds some fifty rows and the update can be HOT (nothing indexed changes; the fill factor leaves room). A host's
-- last-seen time is the later of hosts.last_seen (written with its changes) and host_seen.last_seen.
CREATE TABLE IF NOT EXISTS host_seen
(
    host_ref  text        PRIMARY KEY,
    last_seen timestamptz NOT NULL
) WITH (fillfactor = 50);

INSERT INTO host_seen (host_ref, last_seen) SELECT host_ref, last_seen FROM hosts ON CONFLICT (host_ref) DO NOTHING;
