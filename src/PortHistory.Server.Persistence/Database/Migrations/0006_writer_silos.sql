-- Which silo (address and generation) a journal writer belongs to: when the cluster declares that silo dead, its
-- writers are gone at once, without waiting for their heartbeat to time out.
ALTER TABLE sighting_writers ADD COLUMN IF NOT EXISTS silo text;
CREATE INDEX IF NOT EXISTS sighting_writers_silo ON sighting_writers (silo);
