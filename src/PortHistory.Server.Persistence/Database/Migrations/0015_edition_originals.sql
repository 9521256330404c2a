-- Originals and provenance of editions, and a query index that a new edition changes only where it changes something.

-- Every received file byte for byte, cut into content-defined chunks (a new weekly version shares all but a few with
-- the one before), each stored once, Brotli-compressed, by the SHA-256 of its bytes. Never deleted.
CREATE TABLE IF NOT EXISTS original_chunks
(
    hash       bytea   PRIMARY KEY,
    length     integer NOT NULL CHECK (length > 0),
    compressed bytea   NOT NULL
);

-- Editions received from now on keep `chunks` (the chunk hashes in order, 32 bytes each) instead of `content`.
ALTER TABLE editions ALTER COLUMN content DROP NOT NULL;
ALTER TABLE editions ADD COLUMN IF NOT EXISTS chunks        bytea;
-- Where the file came from: the URL fetched (or a git commit and path), when, and the HTTP validators.
ALTER TABLE editions ADD COLUMN IF NOT EXISTS origin        text;
ALTER TABLE editions ADD COLUMN IF NOT EXISTS retrieved_at  timestamptz;
ALTER TABLE editions ADD COLUMN IF NOT EXISTS etag          text;
ALTER TABLE editions ADD COLUMN IF NOT EXISTS last_modified text;
-- How the edition was recorded ("a second version of the same day", a rebuild's finding).
ALTER TABLE editions ADD COLUMN IF NOT EXISTS remark        text;
-- SHA-256 of the records as parsed when received: a rebuild parses the original again and compares.
ALTER TABLE editions ADD COLUMN IF NOT EXISTS parse_digest  bytea;
-- Entries the edition changed against the one before in history order (0: it says the same); set at each commit.
ALTER TABLE editions ADD COLUMN IF NOT EXISTS change_count  integer;

-- A holding still held in the newest edition is stored without its end and marked open; readers give it the newest.
ALTER TABLE index_holdings ADD COLUMN IF NOT EXISTS open boolean NOT NULL DEFAULT false;
