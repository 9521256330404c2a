-- Per observed (port, transport), the oldest last sighting of a process not yet gone (null: none left). The sweep for
-- processes no host reports any more reads ports by it instead of waking every grain. Rows written before this
-- migration start from the transport's last sighting; their grains write the exact value at their next checkpoint.
ALTER TABLE port_observations ADD COLUMN IF NOT EXISTS oldest_live_seen timestamptz;
UPDATE port_observations SET oldest_live_seen = last_seen WHERE oldest_live_seen IS NULL;
CREATE INDEX IF NOT EXISTS port_observations_by_oldest_live ON port_observations (oldest_live_seen) WHERE oldest_live_seen IS NOT NULL;
