-- Orleans ADO.NET grain storage (Microsoft.Orleans.Persistence.AdoNet 10.x) on PostgreSQL.
-- The provider loads its statements from orleansquery by key and binds: GrainIdHash int, GrainIdN0/N1 bigint,
-- GrainTypeHash int, GrainTypeString text (the state name), GrainIdExtensionString text (null unless a key
-- extension), ServiceId text, GrainStateVersion int (null before the first write), PayloadBinary bytea.
-- Versioning: the first write inserts version 1, each later write and each clear bumps it by one when the caller
-- holds the current version; anything else returns no version and Orleans raises InconsistentStateException.

CREATE TABLE IF NOT EXISTS orleansquery
(
    querykey  varchar(64) PRIMARY KEY,
    querytext text        NOT NULL
);

CREATE TABLE IF NOT EXISTS orleansstorage
(
    grainidhash            integer      NOT NULL,
    grainidn0              bigint       NOT NULL,
    grainidn1              bigint       NOT NULL,
    graintypehash          integer      NOT NULL,
    graintypestring        varchar(512) NOT NULL,
    grainidextensionstring varchar(512),
    serviceid              varchar(150) NOT NULL,
    payloadbinary          bytea,
    modifiedon             timestamptz  NOT NULL DEFAULT now(),
    version                integer
);

-- One row per grain state: concurrent first writes of a duplicate activation conflict instead of both inserting.
CREATE UNIQUE INDEX IF NOT EXISTS orleansstorage_identity
    ON orleansstorage (serviceid, graintypehash, grainidhash, grainidn0, grainidn1, graintypestring, grainidextensionstring)
    NULLS NOT DISTINCT;

INSERT INTO orleansquery (querykey, querytext) VALUES
('ReadFromStorageKey', $q$
SELECT payloadbinary, version
FROM orleansstorage
WHERE serviceid = @ServiceId
  AND graintypehash = @GrainTypeHash AND graintypestring = @GrainTypeString
  AND grainidhash = @GrainIdHash AND grainidn0 = @GrainIdN0 AND grainidn1 = @GrainIdN1
  AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
$q$),
('WriteToStorageKey', $q$
WITH inserted AS (
    INSERT INTO orleansstorage (grainidhash, grainidn0, grainidn1, graintypehash, graintypestring, grainidextensionstring,
                                serviceid, payloadbinary, modifiedon, version)
    SELECT @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString, @GrainIdExtensionString,
           @ServiceId, @PayloadBinary, now(), 1
    WHERE @GrainStateVersion IS NULL
    ON CONFLICT DO NOTHING
    RETURNING version
), updated AS (
    UPDATE orleansstorage
    SET payloadbinary = @PayloadBinary, modifiedon = now(), version = version + 1
    WHERE @GrainStateVersion IS NOT NULL
      AND serviceid = @ServiceId
      AND graintypehash = @GrainTypeHash AND graintypestring = @GrainTypeString
      AND grainidhash = @GrainIdHash AND grainidn0 = @GrainIdN0 AND grainidn1 = @GrainIdN1
      AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
      AND version = @GrainStateVersion
    RETURNING version
)
SELECT COALESCE((SELECT version FROM inserted), (SELECT version FROM updated)) AS newgrainstateversion
$q$),
('ClearStorageKey', $q$
UPDATE orleansstorage
SET payloadbinary = NULL, modifiedon = now(), version = version + 1
WHERE serviceid = @ServiceId
  AND graintypehash = @GrainTypeHash AND graintypestring = @GrainTypeString
  AND grainidhash = @GrainIdHash AND grainidn0 = @GrainIdN0 AND grainidn1 = @GrainIdN1
  AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
  AND version = @GrainStateVersion
RETURNING version
$q$)
ON CONFLICT (querykey) DO UPDATE SET querytext = EXCLUDED.querytext;
