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
