using PortHistory.Registry.History;

namespace PortHistory.Server.Application.Registry;

/// <summary>
/// The history generations (registry_generations), the port hashes a committed generation staged
/// (port_registry_hashes), and the lock that lets one importer in the cluster apply at a time.
/// </summary>
public interface IGenerationStore
{
    /// <summary>The cluster-wide import lock, or null when another importer holds it; disposing the lease releases it.</summary>
    Task<IAsyncDisposable?> TryAcquireImportLockAsync(CancellationToken cancellationToken);

    /// <summary>Marks every generation still applying as aborted: with the lock held, nobody is applying them any more.</summary>
    Task AbortApplyingAsync(CancellationToken cancellationToken);

    /// <summary>Every aborted generation: grains drop what they staged under them.</summary>
    Task<long[]> AbortedAsync(CancellationToken cancellationToken);

    /// <summary>Starts a generation applying the given editions; returns its number.</summary>
    Task<long> StartAsync(IReadOnlyCollection<string> editionIds, CancellationToken cancellationToken);

    /// <summary>The hash of each port's timelines as last committed; ports never staged are absent.</summary>
    Task<IReadOnlyDictionary<int, byte[]>> CommittedHashesAsync(CancellationToken cancellationToken);

    /// <summary>The newest committed generation, 0 when none has committed.</summary>
    Task<long> CommittedGenerationAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The history of the newest committed generation as its query index holds it (one snapshot), or an empty ledger
    /// at generation 0 when none has committed.
    /// </summary>
    Task<CommittedHistory> LoadCommittedHistoryAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Commits a generation in one transaction: its port hashes, the editions' ranks, change counts and states, the
    /// query index (replaced, or changed where it differs) and a notification to the other silos' catalogs.
    /// </summary>
    /// <exception cref="GenerationAbortedException">The generation is no longer applying.</exception>
    Task CommitAsync(GenerationCommit commit, CancellationToken cancellationToken);
}

/// <summary>A committed generation's history.</summary>
public sealed record CommittedHistory(long Generation, HistoryLedger Ledger);

/// <summary>What commits with a generation.</summary>
/// <param name="EditionIds">The pending editions it applies.</param>
/// <param name="HistoryOrder">Every edition id in history order: an edition's rank is its index here.</param>
/// <param name="ChangeCounts">Per edition in history order, how many entries it changed.</param>
/// <param name="ChangedHashes">The new hash of each port it restaged.</param>
/// <param name="Index">The query index: every row (replacing the current ones), or only what changed.</param>
public sealed record GenerationCommit(
    long Generation,
    IReadOnlyCollection<string> EditionIds,
    IReadOnlyList<string> HistoryOrder,
    IReadOnlyList<int> ChangeCounts,
    IReadOnlyList<(int Port, byte[] Hash)> ChangedHashes,
    QueryIndexWrite Index);

/// <summary>The generation being applied was aborted meanwhile (this silo lost the import lock): it must not commit.</summary>
public sealed class GenerationAbortedException(long generation, string? state)
    : Exception($"generation {generation} is {state ?? "gone"}, not applying: the import lock was lost and another importer took over; retried");
