-- Last-seen times packed 128 hosts to a row. One row per host (0023) made the pulse the heaviest write load: with a
-- 60 s heartbeat and a 5-minute write interval every host wrote a row every 6 minutes, 240 rows a host a day, more than
-- everything else a steady host costs together. Each host now has a slot (hosts.seen_slot, never reused); slot s keeps
-- its time in element s % 128 + 1 of page s / 128, and a pulse writes each page it touches once, however many of its
-- hosts moved. A row of 128 times (about 1.1 KB) stays below the size PostgreSQL moves out of line.
CREATE SEQUENCE IF NOT EXISTS host_seen_slots AS bigint;
ALTER TABLE hosts ADD COLUMN IF NOT EXISTS seen_slot bigint NOT NULL DEFAULT nextval('host_seen_slots');
ALTER SEQUENCE host_seen_slots OWNED BY hosts.seen_slot;

CREATE TABLE IF NOT EXISTS host_seen_pages
(
    page bigint        PRIMARY KEY,
    seen timestamptz[] NOT NULL
) WITH (fillfactor = 50);

-- Element by element the later of two pages' times: a write never moves a time back, and writers of the same page on
-- several silos each keep what the other wrote.
CREATE OR REPLACE FUNCTION host_seen_merge(held timestamptz[], heard timestamptz[]) RETURNS timestamptz[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ARRAY(SELECT greatest(t.a, t.b) FROM unnest(held, heard) WITH ORDINALITY AS t(a, b, i) ORDER BY t.i);

-- Writes hosts' last-seen times: one full page per page touched (null where a host was not heard), merged into what
-- the page holds. Pages in order: concurrent writers lock them in the same order. Hosts without a row are left out.
CREATE OR REPLACE FUNCTION host_seen_write(host_refs text[], heard timestamptz[]) RETURNS void
    LANGUAGE sql
AS $$
    WITH slots AS (
        SELECT h.seen_slot / 128 AS page, (h.seen_slot % 128)::int AS i, max(v.seen) AS seen
        FROM unnest(host_refs, heard) AS v(host_ref, seen) JOIN hosts h ON h.host_ref = v.host_ref
        GROUP BY 1, 2),
    pages AS (
        SELECT p.page, array_agg(s.seen ORDER BY g.i) AS seen
        FROM (SELECT DISTINCT page FROM slots) p CROSS JOIN generate_series(0, 127) AS g(i)
            LEFT JOIN slots s ON s.page = p.page AND s.i = g.i
        GROUP BY p.page)
    INSERT INTO host_seen_pages (page, seen) SELECT page, seen FROM pages ORDER BY page
    ON CONFLICT (page) DO UPDATE SET seen = host_seen_merge(host_seen_pages.seen, EXCLUDED.seen)
        WHERE host_seen_pages.seen IS DISTINCT FROM host_seen_merge(host_seen_pages.seen, EXCLUDED.seen)
$$;

SELECT host_seen_write(array_agg(host_ref), array_agg(last_seen)) FROM host_seen HAVING count(*) > 0;
DROP TABLE host_seen;

-- The pulse's time of each host it has written, as the host_seen table read before: readers take the later of
-- hosts.last_seen (written with the host's changes) and this.
CREATE VIEW host_seen AS
SELECT h.host_ref, p.seen[h.seen_slot % 128 + 1] AS last_seen
FROM hosts h JOIN host_seen_pages p ON p.page = h.seen_slot / 128
WHERE p.seen[h.seen_slot % 128 + 1] IS NOT NULL;
