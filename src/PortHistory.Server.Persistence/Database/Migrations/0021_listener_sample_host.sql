-- One host among those a listener change row adds up: admins see which hosts run a process (a sample, as for
-- sightings), although the rows count hosts rather than name them.
ALTER TABLE listener_changes ADD COLUMN IF NOT EXISTS host_ref text NOT NULL DEFAULT '';
