-- A rotated credential remembers the credential it was issued to: revoking that one revokes it too (and its own
-- rotations), so a stolen credential's successors do not outlive its revocation. Replaces the flag replaces_on_use:
-- a credential rotated from another, not yet used, is the host's pending rotation.
ALTER TABLE access_tokens ADD COLUMN IF NOT EXISTS rotated_from text;
CREATE INDEX IF NOT EXISTS access_tokens_rotated_from ON access_tokens (rotated_from) WHERE rotated_from IS NOT NULL;
-- Revoked credentials are deleted after the retention: found by when they were revoked.
CREATE INDEX IF NOT EXISTS access_tokens_revoked_at ON access_tokens (revoked_at) WHERE revoked_at IS NOT NULL;

-- Host refs admins approved for enrollment (PortHistory:Enrollment:Approval = allow-list or admin), and the ones that
-- asked and wait for an admin (approved false).
CREATE TABLE IF NOT EXISTS enrollment_hosts
(
    host_ref     text        PRIMARY KEY,
    approved     boolean     NOT NULL,
    requested_at timestamptz,
    requested_by text,
    approved_at  timestamptz,
    approved_by  text
);
