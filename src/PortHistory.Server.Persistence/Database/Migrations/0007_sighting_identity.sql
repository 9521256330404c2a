-- What a runtime process runs (java, python, node… say nothing by their name) and the systemd service a process
-- belongs to: the process → service table matches on them before the process name. Rows written before this
-- migration, and by agents that do not send them, have ''.
ALTER TABLE sighting_journal ADD COLUMN IF NOT EXISTS program text NOT NULL DEFAULT '';
ALTER TABLE sighting_journal ADD COLUMN IF NOT EXISTS systemd_unit text NOT NULL DEFAULT '';
