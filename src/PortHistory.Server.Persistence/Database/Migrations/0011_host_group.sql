-- The host group an agent reports with its batches: expectations may be set for one group of hosts. Rows written
-- before this migration, and by agents configured with none, have ''.
ALTER TABLE sighting_journal ADD COLUMN IF NOT EXISTS host_group text NOT NULL DEFAULT '';
