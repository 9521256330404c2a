// The commit of a generation and the query index it rewrites: one transaction's SQL, kept in one file.
using Npgsql;
using NpgsqlTypes;
using PortHistory.Server.Application.Notifications;
using PortHistory.Server.Application.Registry;

namespace PortHistory.Server.Persistence.Registry;

/// <summary>The generation tables in PostgreSQL; the import lock is a session advisory lock on a connection of its own.</summary>
public sealed class GenerationStore(NpgsqlDataSource dataSource) : IGenerationStore
{
    private const long ImportLock = 0x706f7274_696d7074; // "portimpt"

    public async Task<IAsyncDisposable?> TryAcquireImportLockAsync(CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = new NpgsqlCommand($"SELECT pg_try_advisory_lock({ImportLock})", connection);
            if ((bool)(await command.ExecuteScalarAsync(cancellationToken))!) return new ImportLease(connection);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        await connection.DisposeAsync();
        return null;
    }

    public Task AbortApplyingAsync(CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE registry_generations SET state = 'aborted', finished_at = now() WHERE state = 'applying'", cancellationToken);

    public async Task<long[]> AbortedAsync(CancellationToken cancellationToken)
    {
        var aborted = new List<long>();
        await using var command = dataSource.CreateCommand("SELECT generation FROM registry_generations WHERE state = 'aborted'");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) aborted.Add(reader.GetInt64(0));
        return [.. aborted];
    }

    public async Task<long> StartAsync(IReadOnlyCollection<string> editionIds, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "INSERT INTO registry_generations (generation, state, edition_ids) VALUES (nextval('registry_generation_seq'), 'applying', @ids) RETURNING generation");
        command.Parameters.AddWithValue("ids", editionIds.ToArray());
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<IReadOnlyDictionary<int, byte[]>> CommittedHashesAsync(CancellationToken cancellationToken)
    {
        var hashes = new Dictionary<int, byte[]>();
        await using var command = dataSource.CreateCommand("SELECT port, hash FROM port_registry_hashes");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) hashes[reader.GetInt32(0)] = reader.GetFieldValue<byte[]>(1);
        return hashes;
    }

    public async Task<long> CommittedGenerationAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT coalesce(max(generation), 0) FROM registry_generations WHERE state = 'committed'");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public Task<CommittedHistory> LoadCommittedHistoryAsync(CancellationToken cancellationToken) => CommittedHistoryReader.ReadAsync(dataSource, cancellationToken);

    public async Task CommitAsync(GenerationCommit commit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The advisory lock lives on another connection; if that connection dropped, another silo may have aborted this
        // generation and started its own. The row lock makes the check and the commit one step against such an abort.
        await using (var still = new NpgsqlCommand("SELECT state FROM registry_generations WHERE generation = @generation FOR UPDATE", connection, transaction))
        {
            still.Parameters.AddWithValue("generation", commit.Generation);
            var state = (string?)await still.ExecuteScalarAsync(cancellationToken);
            if (state != "applying") throw new GenerationAbortedException(commit.Generation, state);
        }

        if (commit.Index.Replace is { } rows) await QueryIndexWriter.ReplaceAsync(connection, rows, cancellationToken);
        if (commit.Index.Delta is { } delta) await QueryIndexWriter.ApplyAsync(connection, delta, cancellationToken);

        await using (var hashes = new NpgsqlCommand("""
            INSERT INTO port_registry_hashes (port, hash, generation)
            SELECT port, hash, @generation FROM unnest(@ports, @hashes) AS changed(port, hash)
            ON CONFLICT (port) DO UPDATE SET hash = EXCLUDED.hash, generation = EXCLUDED.generation
            """, connection, transaction))
        {
            hashes.Parameters.AddWithValue("generation", commit.Generation);
            hashes.Parameters.AddWithValue("ports", commit.ChangedHashes.Select(c => c.Port).ToArray());
            hashes.Parameters.Add(new NpgsqlParameter("hashes", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = commit.ChangedHashes.Select(c => c.Hash).ToArray() });
            await hashes.ExecuteNonQueryAsync(cancellationToken);
        }

        await EditionStore.MarkCommittedAsync(connection, transaction, commit.Generation, commit.HistoryOrder, commit.ChangeCounts, commit.EditionIds,
            cancellationToken);

        await using (var complete = new NpgsqlCommand($"""
            UPDATE registry_generations SET state = 'committed', finished_at = now() WHERE generation = @generation;
            NOTIFY {NotificationChannels.Catalog};
            """, connection, transaction))
        {
            complete.Parameters.AddWithValue("generation", commit.Generation);
            await complete.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Holds the connection whose session holds the lock.</summary>
    private sealed class ImportLease(NpgsqlConnection connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({ImportLock})", connection);
                await unlock.ExecuteNonQueryAsync(CancellationToken.None);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                // The connection is gone, and the session lock with it.
            }
            finally
            {
                await connection.DisposeAsync();
            }
        }
    }
}

/// <summary>
/// Writes the query-side index (index_versions, index_name_only, index_holdings, index_renames) in the transaction
/// that commits a history generation: rewritten whole, or only the rows that differ from the generation before.
/// </summary>
public static class QueryIndexWriter
{
    /// <summary>Replaces every index row with the projection's; runs inside the caller's commit transaction.</summary>
    public static async Task ReplaceAsync(NpgsqlConnection connection, QueryIndexRows rows, CancellationToken cancellationToken)
    {
        await using (var clear = new NpgsqlCommand(
                         "DELETE FROM index_versions; DELETE FROM index_name_only; DELETE FROM index_holdings; DELETE FROM index_renames;", connection))
        {
            await clear.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var copy = await connection.BeginBinaryImportAsync(
                         "COPY index_versions (transport, port_first, port_last, version_index, from_rank, through_rank, status, state_key, version) FROM STDIN (FORMAT BINARY)",
                         cancellationToken))
        {
            foreach (var row in rows.Versions)
            {
                await copy.StartRowAsync(cancellationToken);
                await copy.WriteAsync(row.Transport, NpgsqlDbType.Smallint, cancellationToken);
                await copy.WriteAsync(row.PortFirst, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(row.PortLast, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(row.VersionIndex, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(row.FromRank, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(row.ThroughRank, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(row.Status, NpgsqlDbType.Smallint, cancellationToken);
                await copy.WriteAsync(row.StateKey, NpgsqlDbType.Bytea, cancellationToken);
                await copy.WriteAsync(row.Version, NpgsqlDbType.Bytea, cancellationToken);
            }

            await copy.CompleteAsync(cancellationToken);
        }

        await using (var copy = await connection.BeginBinaryImportAsync(
                         "COPY index_name_only (transport, name_lower, version_index, from_rank, through_rank, state_key, version) FROM STDIN (FORMAT BINARY)",
                         cancellationToken))
        {
            foreach (var row in rows.NameOnly)
            {
                await copy.StartRowAsync(cancellationToken);
                await copy.WriteAsync(row.Transport, NpgsqlDbType.Smallint, cancellationToken);
                await copy.WriteAsync(row.NameLower, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(row.VersionIndex, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(row.FromRank, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(row.ThroughRank, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(row.StateKey, NpgsqlDbType.Bytea, cancellationToken);
                await copy.WriteAsync(row.Version, NpgsqlDbType.Bytea, cancellationToken);
            }

            await copy.CompleteAsync(cancellationToken);
        }

        await using (var copy = await connection.BeginBinaryImportAsync("COPY index_holdings (name_lower, ordinal, holding, open) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var row in rows.Holdings)
            {
                await copy.WriteRowAsync(cancellationToken, row.NameLower, row.Ordinal, row.Holding, row.Open);
            }

            await copy.CompleteAsync(cancellationToken);
        }

        await using (var copy = await connection.BeginBinaryImportAsync("COPY index_renames (ordinal, from_lower, to_lower, link) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var row in rows.Renames)
            {
                await copy.WriteRowAsync(cancellationToken, row.Ordinal, row.FromLower, row.ToLower, row.Link);
            }

            await copy.CompleteAsync(cancellationToken);
        }
    }

    /// <summary>Deletes and writes the rows that changed; runs inside the caller's commit transaction.</summary>
    public static async Task ApplyAsync(NpgsqlConnection connection, QueryIndexDelta delta, CancellationToken cancellationToken)
    {
        var batch = new NpgsqlBatch(connection);
        if (delta.DeletedVersions.Count > 0)
        {
            batch.BatchCommands.Add(Command("""
                DELETE FROM index_versions v USING unnest(@transports, @firsts, @indexes) AS d(transport, port_first, version_index)
                WHERE v.transport = d.transport AND v.port_first = d.port_first AND v.version_index = d.version_index
                """,
                ("transports", delta.DeletedVersions.Select(k => k.Transport).ToArray()),
                ("firsts", delta.DeletedVersions.Select(k => k.PortFirst).ToArray()),
                ("indexes", delta.DeletedVersions.Select(k => k.VersionIndex).ToArray())));
        }

        if (delta.Versions.Count > 0)
        {
            batch.BatchCommands.Add(Command("""
                INSERT INTO index_versions (transport, port_first, port_last, version_index, from_rank, through_rank, status, state_key, version)
                SELECT * FROM unnest(@transports, @firsts, @lasts, @indexes, @froms, @throughs, @statuses, @keys, @versions)
                ON CONFLICT (transport, port_first, version_index) DO UPDATE SET port_last = EXCLUDED.port_last, from_rank = EXCLUDED.from_rank,
                    through_rank = EXCLUDED.through_rank, status = EXCLUDED.status, state_key = EXCLUDED.state_key, version = EXCLUDED.version
                """,
                ("transports", delta.Versions.Select(r => r.Transport).ToArray()),
                ("firsts", delta.Versions.Select(r => r.PortFirst).ToArray()),
                ("lasts", delta.Versions.Select(r => r.PortLast).ToArray()),
                ("indexes", delta.Versions.Select(r => r.VersionIndex).ToArray()),
                ("froms", delta.Versions.Select(r => r.FromRank).ToArray()),
                ("throughs", delta.Versions.Select(r => r.ThroughRank).ToArray()),
                ("statuses", delta.Versions.Select(r => r.Status).ToArray()),
                ("keys", delta.Versions.Select(r => r.StateKey).ToArray()),
                ("versions", delta.Versions.Select(r => r.Version).ToArray())));
        }

        if (delta.DeletedNameOnly.Count > 0)
        {
            batch.BatchCommands.Add(Command("""
                DELETE FROM index_name_only n USING unnest(@transports, @names, @indexes) AS d(transport, name_lower, version_index)
                WHERE n.transport = d.transport AND n.name_lower = d.name_lower AND n.version_index = d.version_index
                """,
                ("transports", delta.DeletedNameOnly.Select(k => k.Transport).ToArray()),
                ("names", delta.DeletedNameOnly.Select(k => k.NameLower).ToArray()),
                ("indexes", delta.DeletedNameOnly.Select(k => k.VersionIndex).ToArray())));
        }

        if (delta.NameOnly.Count > 0)
        {
            batch.BatchCommands.Add(Command("""
                INSERT INTO index_name_only (transport, name_lower, version_index, from_rank, through_rank, state_key, version)
                SELECT * FROM unnest(@transports, @names, @indexes, @froms, @throughs, @keys, @versions)
                ON CONFLICT (transport, name_lower, version_index) DO UPDATE SET from_rank = EXCLUDED.from_rank, through_rank = EXCLUDED.through_rank,
                    state_key = EXCLUDED.state_key, version = EXCLUDED.version
                """,
                ("transports", delta.NameOnly.Select(r => r.Transport).ToArray()),
                ("names", delta.NameOnly.Select(r => r.NameLower).ToArray()),
                ("indexes", delta.NameOnly.Select(r => r.VersionIndex).ToArray()),
                ("froms", delta.NameOnly.Select(r => r.FromRank).ToArray()),
                ("throughs", delta.NameOnly.Select(r => r.ThroughRank).ToArray()),
                ("keys", delta.NameOnly.Select(r => r.StateKey).ToArray()),
                ("versions", delta.NameOnly.Select(r => r.Version).ToArray())));
        }

        if (delta.DeletedHoldings.Count > 0)
        {
            batch.BatchCommands.Add(Command("""
                DELETE FROM index_holdings h USING unnest(@names, @ordinals) AS d(name_lower, ordinal)
                WHERE h.name_lower = d.name_lower AND h.ordinal = d.ordinal
                """,
                ("names", delta.DeletedHoldings.Select(k => k.NameLower).ToArray()),
                ("ordinals", delta.DeletedHoldings.Select(k => k.Ordinal).ToArray())));
        }

        if (delta.Holdings.Count > 0)
        {
            batch.BatchCommands.Add(Command("""
                INSERT INTO index_holdings (name_lower, ordinal, holding, open) SELECT * FROM unnest(@names, @ordinals, @holdings, @opens)
                ON CONFLICT (name_lower, ordinal) DO UPDATE SET holding = EXCLUDED.holding, open = EXCLUDED.open
                """,
                ("names", delta.Holdings.Select(r => r.NameLower).ToArray()),
                ("ordinals", delta.Holdings.Select(r => r.Ordinal).ToArray()),
                ("holdings", delta.Holdings.Select(r => r.Holding).ToArray()),
                ("opens", delta.Holdings.Select(r => r.Open).ToArray())));
        }

        if (delta.DeletedRenames.Count > 0)
        {
            batch.BatchCommands.Add(Command("DELETE FROM index_renames WHERE ordinal = ANY(@ordinals)", ("ordinals", delta.DeletedRenames.ToArray())));
        }

        if (delta.Renames.Count > 0)
        {
            batch.BatchCommands.Add(Command("""
                INSERT INTO index_renames (ordinal, from_lower, to_lower, link) SELECT * FROM unnest(@ordinals, @froms, @tos, @links)
                ON CONFLICT (ordinal) DO UPDATE SET from_lower = EXCLUDED.from_lower, to_lower = EXCLUDED.to_lower, link = EXCLUDED.link
                """,
                ("ordinals", delta.Renames.Select(r => r.Ordinal).ToArray()),
                ("froms", delta.Renames.Select(r => r.FromLower).ToArray()),
                ("tos", delta.Renames.Select(r => r.ToLower).ToArray()),
                ("links", delta.Renames.Select(r => r.Link).ToArray())));
        }

        if (batch.BatchCommands.Count > 0) await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    private static NpgsqlBatchCommand Command(string sql, params (string Name, object Value)[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.Add(value is byte[][] bytes
                ? new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = bytes }
                : new NpgsqlParameter(name, value));
        }

        return command;
    }
}
