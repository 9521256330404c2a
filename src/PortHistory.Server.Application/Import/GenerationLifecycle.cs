using System.Diagnostics;
using PortHistory.Contracts.V1;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;
using PortHistory.Server.Application.Registry;
using PortHistory.Server.Application.Resilience;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Application.Import;

/// <summary>
/// Applies received editions to the history. Submissions are stored as pending; a run takes every pending edition at
/// once, recomputes the whole history (so the order editions arrive in never matters), stages the ports whose
/// timelines change on their grains under a new generation, and commits the generation in one transaction together
/// with the query index. Until that commit nothing of the new editions is visible; a crash before it leaves them
/// pending, and the next run (or the next submission) applies them again from scratch.
/// </summary>
public sealed class GenerationLifecycle(
    IEditionStore editions,
    IGenerationStore generations,
    ParsedEditions parsed,
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
    public async Task<long?> ApplyPendingAsync(CancellationToken cancellationToken)
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
            pendingIds = [.. stored.Where(e => e.Pending).Select(e => e.Id)];
            if (pendingIds.Count == 0) return null;

            var aborted = await generations.AbortedAsync(cancellationToken);
            var generation = await generations.StartAsync(pendingIds, cancellationToken);
            logger.LogInformation("Applying {Count} edition(s) in generation {Generation}: {Editions}", pendingIds.Count, generation, string.Join(", ", pendingIds));

            var projection = Project(stored);
            var changed = ChangedPorts(projection, await generations.CommittedHashesAsync(cancellationToken));
            progress.Publish(pendingIds, new ImportEvent(ImportStage.Staging, $"staging {changed.Length} changed ports in generation {generation}", 0, changed.Length, generation));
            await staging.StageAsync(generation, aborted, projection.PortTimelines, changed, pendingIds, cancellationToken);

            progress.Publish(pendingIds, new ImportEvent(ImportStage.Indexing, "writing the query index and committing", changed.Length, changed.Length, generation));
            await generations.CommitAsync(new GenerationCommit(generation, pendingIds, projection.EditionOrder,
                [.. changed.Select(p => (p, projection.PortHashes[p]))], projection.Index), cancellationToken);
            await catalog.RefreshAsync(cancellationToken);
            logger.LogInformation("Committed generation {Generation}: {Changed} ports restaged in {Elapsed:0.0}s", generation, changed.Length, clock.Elapsed.TotalSeconds);
            progress.Publish(pendingIds, new ImportEvent(ImportStage.Committed, $"committed in generation {generation}", changed.Length, changed.Length, generation));
            metrics.ImportFinished(committed: true, clock.Elapsed);
            await RefreshVerdictsAsync(cancellationToken);
            return generation;
        }
        catch (Exception e) when (pendingIds.Count > 0)
        {
            progress.Publish(pendingIds, new ImportEvent(ImportStage.Unspecified, DatabaseErrors.Describe(e), Failure: e));
            metrics.ImportFinished(committed: false, clock.Elapsed);
            throw;
        }
    }

    /// <summary>The whole history, from every stored edition, complete and pending alike.</summary>
    private RegistryProjection Project(IReadOnlyList<StoredEdition> stored)
    {
        var all = new RegistryEdition[stored.Count];
        Parallel.For(0, stored.Count, i => all[i] = parsed.Parse(stored[i]));
        return RegistryProjection.Build(RegistryHistory.Build(all));
    }

    /// <summary>The ports whose timelines differ from what is committed. A port never staged holds no history: it changes only if it gets some.</summary>
    private static int[] ChangedPorts(RegistryProjection projection, IReadOnlyDictionary<int, byte[]> committed) =>
        Enumerable.Range(0, projection.PortHashes.Length)
            .Where(p => !(committed.GetValueOrDefault(p) ?? RegistryProjection.EmptyHash).AsSpan().SequenceEqual(projection.PortHashes[p]))
            .ToArray();

    /// <summary>Observed ports judge registry against reality: with a new registry their verdicts in the index are redone.</summary>
    private async Task RefreshVerdictsAsync(CancellationToken cancellationToken)
    {
        try
        {
            var ports = await observed.ObservedPortsAsync(cancellationToken);
            await Parallel.ForEachAsync(ports, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken },
                async (port, _) => await grains.RefreshVerdictsAsync(port));
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // The registry is committed; verdicts catch up at the ports' next checkpoints.
            logger.LogWarning("Refreshing verdicts after the import failed: {Message}", e.Message);
        }
    }
}
