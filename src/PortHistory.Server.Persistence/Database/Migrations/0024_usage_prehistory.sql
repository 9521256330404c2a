-- When the listeners hosts already held as the usage history began (migration 0022) were added to it: once.
ALTER TABLE usage_state ADD COLUMN IF NOT EXISTS prehistory_counted_at timestamptz;
