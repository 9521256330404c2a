-- Per-host credentials: an agent token may be bound to one host_ref (issued by Enrollment), and a fourth role, enroll,
-- may only ask for such credentials.
ALTER TABLE access_tokens DROP CONSTRAINT IF EXISTS access_tokens_role_check;
ALTER TABLE access_tokens ADD CONSTRAINT access_tokens_role_check CHECK (role BETWEEN 1 AND 4);
ALTER TABLE access_tokens ADD COLUMN IF NOT EXISTS host_ref text;
-- A rotated credential: until its first use the host's other credentials still work (the agent may not have stored it
-- yet); at its first use they are revoked and this turns false.
ALTER TABLE access_tokens ADD COLUMN IF NOT EXISTS replaces_on_use boolean NOT NULL DEFAULT false;
ALTER TABLE access_tokens ADD CONSTRAINT access_tokens_host_bound_agents CHECK (host_ref IS NULL OR role = 1);
CREATE INDEX IF NOT EXISTS access_tokens_live_host ON access_tokens (host_ref) WHERE host_ref IS NOT NULL AND revoked_at IS NULL;
