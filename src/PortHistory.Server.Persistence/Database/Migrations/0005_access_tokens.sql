-- Bearer tokens: only a SHA-256 of each secret is kept.
CREATE TABLE IF NOT EXISTS access_tokens
(
    token_id   text        PRIMARY KEY,
    name       text        NOT NULL,
    role       smallint    NOT NULL CHECK (role BETWEEN 1 AND 3),
    token_hash bytea       NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
