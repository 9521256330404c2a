using System.Diagnostics;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Registry;
using PortHistory.Server.Application.Resilience;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Application.Import;

/// <summary>A committed generation: how many ports it restaged, and the index rows it changed (null: rewritten whole).</summary>
public sealed record GenerationOutcome(long Generation, int ChangedPorts, QueryIndexDelta? IndexChanges);

/// <summary>
/// Applies received editions to the history. Submissions are stored as pending; a run takes every pending edition at
/// once, derives the new history from the committed one (<see cref="HistoryDerivation"/>: the order editions arrive in
/// never matters), stages the ports whose timelines change on their grains under a new generation, and commits the
/// generation in one transaction together with the query index rows that changed. Until that commit nothing of the
/// new editions is visible; a crash before it leaves them pending, and the next run (or the next submission) applies
/// them again.
/// </summary>
// Ten dependencies: the one place that runs a generation's steps in order (editions, derivation, staging, grains, catalog,
// observed ports, index and progress), each step a collaborator of its own; metrics and logger besides.
public sealed class GenerationLifecycle(
    IEditionStore editions,
    IGenerationStore generations,
    HistoryDerivation derivation,
    PortStaging staging,
    IRegistryStaging grains,
    ICatalogRefresh catalog,
    IObservedPorts observed,
    ImportProgressHub progress,
    PortHistoryMetrics metrics,
    ILogger<GenerationLifecycle> logger)
{
    /// <summary>
    /// One run: applies every pending edition in a new generation. Returns the committed generation, or null when
    /// nothing was pending or another importer holds the lock.
    /// </summary>
    public async Task<long?> ApplyPendingAsync(CancellationToken cancellationToken) => (await ApplyAsync(fromScratch: false, cancellationToken))?.Generation;

    /// <summary>
    /// Derives the whole history again from the stored originals (after a parser fix, say) and commits it as a new
    /// generation with whatever is pending; null when another importer holds the lock.
    /// </summary>
    public Task<GenerationOutcome?> RebuildAsync(CancellationToken cancellationToken) => ApplyAsync(fromScratch: true, cancellationToken);

    private async Task<GenerationOutcome?> ApplyAsync(bool fromScratch, CancellationToken cancellationToken)
    {
        await using var lease = await generations.TryAcquireImportLockAsync(cancellationToken);
        if (lease is null) return null;
        IReadOnlyCollection<string> pendingIds = [];
        var clock = Stopwatch.StartNew();
        try
        {
            // Holding the lock, nobody else is applying: a generation still applying was left by a lost importer.
            await generations.AbortApplyingAsync(cancellationToken);
            var stored = await editions.LoadAllAsync(cancellationToken);
            var pending = stored.Where(e => e.Pending).ToList();
            pendingIds = [.. pending.Select(e => e.Id)];
            if (pendingIds.Count == 0 && !fromScratch) return null;

            var aborted = await generations.AbortedAsync(cancellationToken);
            var generation = await generations.StartAsync(pendingIds, cancellationToken);
            logger.LogInformation("Applying {Count} edition(s) in generation {Generation}{Rebuild}: {Editions}", pendingIds.Count, generation,
                fromScratch ? ", the history derived again from the originals" : "", string.Join(", ", pendingIds));

            var derived = await derivation.DeriveAsync(stored, fromScratch, cancellationToken);
            var derivedAt = clock.Elapsed;
            var projection = RegistryProjection.Build(derived.Ledger, derived.Previous);
            var changed = ChangedPorts(projection, derived.Previous?.PortHashes ?? await CommittedHashesAsync(cancellationToken));
            var projectedAt = clock.Elapsed;
            progress.Publish(pendingIds, new ImportEvent(ImportStage.Staging, $"staging {changed.Length} changed ports in generation {generation}", 0, changed.Length, generation));
            await staging.StageAsync(generation, aborted, projection.PortTimelines, changed, pendingIds, cancellationToken);

            var stagedAt = clock.Elapsed;
            progress.Publish(pendingIds, new ImportEvent(ImportStage.Indexing, "writing the query index and committing", changed.Length, changed.Length, generation));
            var index = derived.Previous is { } previous ? QueryIndexWrite.Changes(previous.Index, projection.Index) : QueryIndexWrite.All(projection.Index);
            await generations.CommitAsync(new GenerationCommit(generation, pendingIds, projection.EditionOrder, projection.ChangeCounts,
                [.. changed.Select(p => (p, projection.PortHashes[p]))], index), cancellationToken);
            derivation.Committed(generation, derived.Ledger, projection, pending);
            await catalog.RefreshAsync(cancellationToken);
            logger.LogInformation(
                "Committed generation {Generation}: {Appended} edition(s) {How}, {Changed} ports restaged, index {Index} in {Elapsed:0.000}s " +
                "(history {Derive:0.000}s, projection {Project:0.000}s, staging {Stage:0.000}s, commit {Commit:0.000}s)",
                generation, derived.Appended, derived.Replayed ? "derived again" : "appended", changed.Length,
                index.Delta is { } delta ? $"{delta.RowsWritten} rows written, {delta.RowsDeleted} deleted" : "rewritten", clock.Elapsed.TotalSeconds,
                derivedAt.TotalSeconds, (projectedAt - derivedAt).TotalSeconds, (stagedAt - projectedAt).TotalSeconds, (clock.Elapsed - stagedAt).TotalSeconds);
            progress.Publish(pendingIds, new ImportEvent(ImportStage.Committed, $"committed in generation {generation}", changed.Length, changed.Length, generation));
            metrics.ImportFinished(committed: true, clock.Elapsed);
            await RefreshVerdictsAsync(generation, cancellationToken);
            return new GenerationOutcome(generation, changed.Length, index.Delta);
        }
        catch (Exception e) when (pendingIds.Count > 0)
        {
            progress.Publish(pendingIds, new ImportEvent(ImportStage.Unspecified, DatabaseErrors.Describe(e), Failure: e));
            metrics.ImportFinished(committed: false, clock.Elapsed);
            throw;
        }
    }

    private async Task<IReadOnlyList<byte[]>> CommittedHashesAsync(CancellationToken cancellationToken)
    {
        var committed = await generations.CommittedHashesAsync(cancellationToken);
        return [.. Enumerable.Range(0, PortHistory.Registry.Model.PortSpan.MaxPort + 1).Select(p => committed.GetValueOrDefault(p) ?? RegistryProjection.EmptyHash)];
    }

    /// <summary>The ports whose timelines differ from what is committed. A port never staged holds no history: it changes only if it gets some.</summary>
    private static int[] ChangedPorts(RegistryProjection projection, IReadOnlyList<byte[]> committed) =>
        Enumerable.Range(0, projection.PortHashes.Length)
            .Where(p => !ReferenceEquals(committed[p], projection.PortHashes[p]) && !committed[p].AsSpan().SequenceEqual(projection.PortHashes[p]))
            .ToArray();

    /// <summary>Observed ports judge registry against reality: with a new registry their verdicts in the index are redone.</summary>
    private async Task RefreshVerdictsAsync(long generation, CancellationToken cancellationToken)
    {
        try
        {
            var ports = await observed.ObservedPortsAsync(cancellationToken);
            await Parallel.ForEachAsync(ports, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken },
                async (port, _) => await grains.RefreshVerdictsAsync(port, generation));
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // The registry is committed; verdicts catch up at the ports' next checkpoints.
            logger.LogWarning("Refreshing verdicts after the import failed: {Message}", e.Message);
        }
    }
}

/// <summary>
/// The importer's background loop: after a submission, waits for uploads to go quiet, then applies every pending
/// edition in one generation (<see cref="GenerationLifecycle"/>). A failed generation leaves its editions pending and
/// is retried with the server's backoff until it succeeds or the server stops.
/// </summary>
public sealed class ImportLoop(UploadIntake intake, GenerationLifecycle lifecycle, IOptions<ImportOptions> options, ILogger<ImportLoop> logger)
    : BackgroundService
{
    /// <summary>How often pending editions are looked for without a submission here: other silos receive some too.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pipeline = Backoff.UntilStopped(logger, "Applying pending editions (they stay pending)");
        var resume = options.Value.ResumePending;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var woken = resume || await intake.WaitForSubmissionAsync(PollInterval, stoppingToken);
                resume = false;
                if (woken) await WaitForQuietAsync(stoppingToken);
                await intake.TakeSubmissionsAsync(stoppingToken);
                await pipeline.ExecuteAsync(async token => await lifecycle.ApplyPendingAsync(token), stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Lets a batch of uploads (porthistory import DIR sends them together) land in one generation. With nothing else
    /// being received there is nothing to wait for: editions sent one at a time (a follower, a git history) apply at once.
    /// </summary>
    private async Task WaitForQuietAsync(CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (intake.IsReceiving && waited.Elapsed < options.Value.MaxBatchWait)
        {
            await Task.Delay(options.Value.BatchWindow, cancellationToken);
        }
    }
}
