-- The follower's state per configured source (a URL or a directory): what it last saw, when, and how it went. It
-- outlives silos, so a restart neither fetches early nor forgets the validators or the failures.
CREATE TABLE IF NOT EXISTS follow_sources
(
    source               text        PRIMARY KEY,
    etag                 text,
    last_modified        text,
    last_sha256          text,
    last_attempt_at      timestamptz,
    last_success_at      timestamptz,
    last_change_at       timestamptz,
    consecutive_failures integer     NOT NULL DEFAULT 0,
    last_error           text,
    next_attempt_at      timestamptz
);
