using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Ports;
using PortHistory.Registry.Formats;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;
using PortHistory.Server.Infrastructure.Database;
using PortHistory.Server.Infrastructure.Registry;
using PortHistory.Server.Configuration;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Server.Application.Import;

/// <summary>
/// Applies received editions to the history. Submissions are stored as pending; the importer then takes every pending
/// edition at once, recomputes the whole history (so the order editions arrive in never matters), stages the ports
/// whose timelines change on their grains under a new generation, and commits the generation in one transaction
/// together with the query index. Until that commit nothing of the new editions is visible; a crash before it leaves
/// them pending, and the next run (or the next submission) applies them again from scratch.
/// </summary>
public sealed class EditionImporter(
    EditionStore store,
    EditionCatalog catalog,
    IGrainFactory grains,
    NpgsqlDataSource dataSource,
    ImportProgressHub progress,
    IOptions<ImportOptions> options,
    Infrastructure.Sightings.ObservationIndex observations,
    ILogger<EditionImporter> logger) : BackgroundService
{
    private const long ApplyLock = 0x706f7274_696d7074; // "portimpt"
    private const int StageAttempts = 4;

    private readonly SemaphoreSlim _wake = new(0);
    private int _receiving;
    private readonly ConcurrentDictionary<string, RegistryEdition> _parsed = new(StringComparer.Ordinal);

    /// <summary>Marks an upload in progress: the importer does not start a generation while uploads are still arriving.</summary>
    public IDisposable TrackUpload()
    {
        Interlocked.Increment(ref _receiving);
        return new UploadScope(this);
    }

    /// <summary>Records an edition as pending; the importer picks it up within its batch window.</summary>
    public async Task<SubmitOutcome> SubmitAsync(RegistryEdition edition, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var outcome = await store.AddPendingAsync(edition, content, cancellationToken);
        if (outcome.Result == SubmitResult.Queued)
        {
            _parsed.TryAdd(edition.Sha256, edition);
            _wake.Release();
        }

        return outcome;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var resume = options.Value.ResumePending;
        var backoff = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Woken by a submission here, or every few seconds to pick up submissions received by other silos.
                var woken = resume || await _wake.WaitAsync(TimeSpan.FromSeconds(5), stoppingToken);
                resume = false;
                if (woken) await WaitForQuietAsync(stoppingToken);
                while (_wake.CurrentCount > 0) await _wake.WaitAsync(stoppingToken);
                await ApplyPendingAsync(stoppingToken);
                backoff = TimeSpan.FromSeconds(1);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Applying pending editions failed; they stay pending and are retried in {Backoff}", backoff);
                await Task.Delay(backoff, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
                backoff = TimeSpan.FromSeconds(Math.Min(backoff.TotalSeconds * 2, 30));
                resume = true;
            }
        }
    }

    /// <summary>Lets a batch of uploads (porthistory import DIR sends them together) land in one generation.</summary>
    private async Task WaitForQuietAsync(CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        do
        {
            await Task.Delay(options.Value.BatchWindow, cancellationToken);
        }
        while (Volatile.Read(ref _receiving) > 0 && waited.Elapsed < options.Value.MaxBatchWait);
    }

    private async Task ApplyPendingAsync(CancellationToken cancellationToken)
    {
        await using var lockConnection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (!await TryLockAsync(lockConnection, cancellationToken)) return;
        IReadOnlyCollection<string> pendingIds = [];
        try
        {
            var clock = Stopwatch.StartNew();
            await RunAsync(lockConnection, "UPDATE registry_generations SET state = 'aborted', finished_at = now() WHERE state = 'applying'", cancellationToken);
            var stored = await store.LoadAllAsync(cancellationToken);
            pendingIds = [.. stored.Where(e => e.Pending).Select(e => e.Id)];
            if (pendingIds.Count == 0) return;

            var aborted = await AbortedGenerationsAsync(lockConnection, cancellationToken);
            var generation = await StartGenerationAsync(lockConnection, pendingIds, cancellationToken);
            logger.LogInformation("Applying {Count} edition(s) in generation {Generation}: {Editions}", pendingIds.Count, generation, string.Join(", ", pendingIds));

            var editions = new RegistryEdition[stored.Count];
            Parallel.For(0, stored.Count, i => editions[i] = Parse(stored[i]));
            var history = RegistryHistory.Build(editions);
            var projection = RegistryProjection.Build(history);

            // A port never staged holds no history: it changes only if it gets some.
            var committed = await CommittedHashesAsync(lockConnection, cancellationToken);
            var changed = Enumerable.Range(0, projection.PortHashes.Length)
                .Where(p => !(committed.GetValueOrDefault(p) ?? RegistryProjection.EmptyHash).AsSpan().SequenceEqual(projection.PortHashes[p]))
                .ToArray();
            progress.Publish(pendingIds, new ImportEvent(ImportStage.Staging, $"staging {changed.Length} changed ports in generation {generation}", 0, changed.Length, generation));
            await StageAsync(generation, aborted, projection, changed, pendingIds, cancellationToken);

            progress.Publish(pendingIds, new ImportEvent(ImportStage.Indexing, "writing the query index and committing", changed.Length, changed.Length, generation));
            await CommitAsync(generation, projection, changed, pendingIds, cancellationToken);
            await catalog.RefreshAsync(cancellationToken);
            logger.LogInformation("Committed generation {Generation}: {Changed} ports restaged in {Elapsed:0.0}s", generation, changed.Length, clock.Elapsed.TotalSeconds);
            progress.Publish(pendingIds, new ImportEvent(ImportStage.Committed, $"committed in generation {generation}", changed.Length, changed.Length, generation));
            await RefreshVerdictsAsync(cancellationToken);
        }
        catch (Exception e) when (pendingIds.Count > 0)
        {
            progress.Publish(pendingIds, new ImportEvent(ImportStage.Unspecified, Describe(e), Failure: e));
            throw;
        }
        finally
        {
            try
            {
                await RunAsync(lockConnection, $"SELECT pg_advisory_unlock({ApplyLock})", CancellationToken.None);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                // The connection is gone, and the session lock with it.
            }
        }
    }

    /// <summary>Observed ports judge registry against reality: with a new registry their verdicts in the index are redone.</summary>
    private async Task RefreshVerdictsAsync(CancellationToken cancellationToken)
    {
        try
        {
            var ports = await observations.ObservedPortsAsync(cancellationToken);
            await Parallel.ForEachAsync(ports, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken },
                async (port, _) => await grains.GetGrain<IPortGrain>(port).RefreshVerdictsAsync());
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // The registry is committed; verdicts catch up at the ports' next checkpoints.
            logger.LogWarning("Refreshing verdicts after the import failed: {Message}", e.Message);
        }
    }

    /// <summary>The innermost database error if there is one (Orleans wraps storage errors with whole stack traces), else the message's first line.</summary>
    private static string Describe(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is NpgsqlException npgsql) return $"PostgreSQL: {npgsql.Message.Split('\n')[0]}";
        }

        return exception.Message.Split('\n')[0].Trim();
    }

    private RegistryEdition Parse(StoredEdition stored) => _parsed.GetOrAdd(stored.Sha256, _ =>
        EditionReader.Read(new EditionContent(stored.Content, stored.Source), new EditionReadOptions
        {
            Format = stored.Format,
            EffectiveDate = stored.EffectiveDate,
            Id = stored.Id,
            Title = stored.Title,
        }) with { DateSource = stored.DateSource });

    private async Task StageAsync(long generation, long[] aborted, RegistryProjection projection, int[] ports, IReadOnlyCollection<string> editionIds,
        CancellationToken cancellationToken)
    {
        var done = 0;
        var step = Math.Max(1, ports.Length / 50);
        await Parallel.ForEachAsync(ports, new ParallelOptions { MaxDegreeOfParallelism = options.Value.StagingConcurrency, CancellationToken = cancellationToken },
            async (port, _) =>
            {
                // A stage is idempotent: a port that failed for a passing reason (a busy database, a silo joining or
                // leaving) is tried again here rather than failing the whole generation. Anything else fails at once.
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        await grains.GetGrain<IPortGrain>(port).StageRegistryAsync(generation, aborted, new Orleans.Concurrency.Immutable<byte[]>(projection.PortTimelines[port]));
                        break;
                    }
                    catch (Exception e) when (attempt < StageAttempts && DatabaseErrors.IsTransient(e) && !cancellationToken.IsCancellationRequested)
                    {
                        logger.LogWarning("Staging port {Port} failed (attempt {Attempt} of {Attempts}): {Message}", port, attempt, StageAttempts, e.Message);
                        await Task.Delay(TimeSpan.FromMilliseconds(250 << attempt), cancellationToken);
                    }
                }

                var count = Interlocked.Increment(ref done);
                if (count % step == 0)
                {
                    progress.Publish(editionIds, new ImportEvent(ImportStage.Staging, $"staged {count} of {ports.Length} ports", count, ports.Length, generation));
                }
            });
    }

    private async Task CommitAsync(long generation, RegistryProjection projection, int[] changed, IReadOnlyCollection<string> pendingIds, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The advisory lock lives on another connection; if that connection dropped, another silo may have aborted this
        // generation and started its own. The row lock makes the check and the commit one step against such an abort.
        await using (var still = new NpgsqlCommand("SELECT state FROM registry_generations WHERE generation = @generation FOR UPDATE", connection, transaction))
        {
            still.Parameters.AddWithValue("generation", generation);
            var state = (string?)await still.ExecuteScalarAsync(cancellationToken);
            if (state != "applying") throw new GenerationAbortedException(generation, state);
        }

        await QueryIndex.ReplaceAsync(connection, projection, cancellationToken);

        await using (var hashes = new NpgsqlCommand("""
            INSERT INTO port_registry_hashes (port, hash, generation)
            SELECT port, hash, @generation FROM unnest(@ports, @hashes) AS changed(port, hash)
            ON CONFLICT (port) DO UPDATE SET hash = EXCLUDED.hash, generation = EXCLUDED.generation
            """, connection, transaction))
        {
            hashes.Parameters.AddWithValue("generation", generation);
            hashes.Parameters.AddWithValue("ports", changed);
            hashes.Parameters.Add(new NpgsqlParameter("hashes", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = changed.Select(p => projection.PortHashes[p]).ToArray() });
            await hashes.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var complete = new NpgsqlCommand($"""
            UPDATE editions e SET rank = r.rank FROM unnest(@ids, @ranks) AS r(id, rank) WHERE e.id = r.id;
            UPDATE editions SET status = 'complete', committed_at = now(), committed_generation = @generation WHERE id = ANY(@pending);
            UPDATE registry_generations SET state = 'committed', finished_at = now() WHERE generation = @generation;
            NOTIFY {EditionCatalog.Channel};
            """, connection, transaction))
        {
            complete.Parameters.AddWithValue("ids", projection.EditionOrder.ToArray());
            complete.Parameters.AddWithValue("ranks", Enumerable.Range(0, projection.EditionOrder.Count).ToArray());
            complete.Parameters.AddWithValue("generation", generation);
            complete.Parameters.AddWithValue("pending", pendingIds.ToArray());
            await complete.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task<bool> TryLockAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT pg_try_advisory_lock({ApplyLock})", connection);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<long> StartGenerationAsync(NpgsqlConnection connection, IReadOnlyCollection<string> editionIds, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "INSERT INTO registry_generations (generation, state, edition_ids) VALUES (nextval('registry_generation_seq'), 'applying', @ids) RETURNING generation",
            connection);
        command.Parameters.AddWithValue("ids", editionIds.ToArray());
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<long[]> AbortedGenerationsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var aborted = new List<long>();
        await using var command = new NpgsqlCommand("SELECT generation FROM registry_generations WHERE state = 'aborted'", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) aborted.Add(reader.GetInt64(0));
        return [.. aborted];
    }

    private static async Task<Dictionary<int, byte[]>> CommittedHashesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var hashes = new Dictionary<int, byte[]>();
        await using var command = new NpgsqlCommand("SELECT port, hash FROM port_registry_hashes", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) hashes[reader.GetInt32(0)] = reader.GetFieldValue<byte[]>(1);
        return hashes;
    }

    private static async Task RunAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private sealed class UploadScope(EditionImporter importer) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) Interlocked.Decrement(ref importer._receiving);
        }
    }
}

/// <summary>The generation being applied was aborted meanwhile (this silo lost the import lock): it must not commit.</summary>
public sealed class GenerationAbortedException(long generation, string? state)
    : Exception($"generation {generation} is {state ?? "gone"}, not applying: the import lock was lost and another importer took over; retried");
