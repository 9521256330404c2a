using PortHistory.Registry.History;
using PortHistory.Registry.Model;

namespace PortHistory.Server.Application.Registry;

/// <summary>
/// The editions table: every edition received, where it came from, whether a committed generation contains it, and
/// its original bytes (kept compressed, parts shared between editions, so that the history can be derived again).
/// </summary>
public interface IEditionStore
{
    /// <summary>
    /// Records a parsed edition as pending, with its original bytes and where they came from. The same bytes already
    /// stored (by SHA-256) give that edition back; another file under the same id is a conflict.
    /// </summary>
    Task<SubmitOutcome> AddPendingAsync(RegistryEdition edition, ReadOnlyMemory<byte> content, EditionOrigin? origin, CancellationToken cancellationToken);

    /// <summary>Complete and pending editions and the choices made when they were received (not their bytes).</summary>
    Task<IReadOnlyList<StoredEdition>> LoadAllAsync(CancellationToken cancellationToken);

    /// <summary>An edition's original bytes, checked against its SHA-256.</summary>
    /// <exception cref="OriginalUnreadableException">Not stored, or what is stored no longer matches its hash.</exception>
    Task<byte[]> ReadOriginalAsync(string id, CancellationToken cancellationToken);

    Task<FoundEdition?> FindAsync(string id, CancellationToken cancellationToken);

    /// <summary>The committed editions in history order, and the generation they belong to, from one snapshot.</summary>
    Task<CommittedEditions> ListCommittedAsync(CancellationToken cancellationToken);

    /// <summary>What a rebuild made of an edition's original: its counts and fingerprint from now on, and the remark shown with it.</summary>
    Task RecordReparseAsync(string id, int records, int warnings, byte[] parseDigest, string remark, CancellationToken cancellationToken);
}

public enum SubmitResult
{
    Queued,
    AlreadyImported,
    IdTaken,
}

/// <summary>What happened to a submitted edition; for <see cref="SubmitResult.IdTaken"/>, the id and the other file's hash.</summary>
public sealed record SubmitOutcome(SubmitResult Result, string EditionId, string? ExistingSha256);

/// <summary>
/// Where an edition's bytes came from, kept with it: the URL fetched (or a git commit and path), when, the HTTP
/// validators, and a remark on how it was recorded ("a second version of the same day", …).
/// </summary>
public sealed record EditionOrigin(string? Location, DateTimeOffset? RetrievedAt = null, string? ETag = null, string? LastModified = null, string? Remark = null)
{
    public static EditionOrigin Upload { get; } = new((string?)null);
}

/// <summary>An edition as stored: the id, format, title and date settled when it was received, and what its parse gave then.</summary>
/// <param name="ParseDigest">The <see cref="Registry.ParseDigest"/> recorded on receipt; null for editions received before it was kept.</param>
public sealed record StoredEdition(
    string Id,
    string Sha256,
    EditionFileFormat Format,
    string Title,
    DateOnly EffectiveDate,
    EditionDateSource DateSource,
    string Source,
    bool Pending,
    int Records = 0,
    int Warnings = 0,
    byte[]? ParseDigest = null);

/// <summary>One stored edition's summary, when it was committed and in which generation (none while pending).</summary>
public sealed record FoundEdition(EditionOverview Summary, DateTimeOffset? CommittedAt, long? Generation, bool Pending);

/// <summary>A committed edition as listings show it: its summary, where it came from and what it changed.</summary>
/// <param name="Changes">The entries it changed against the edition before (0: it says the same); null until counted.</param>
public sealed record CommittedEdition(EditionOverview Summary, DateTimeOffset? CommittedAt, EditionOrigin Origin, int? Changes);

public sealed record CommittedEditions(IReadOnlyList<CommittedEdition> Editions, long Generation);

/// <summary>An edition's original is missing or damaged: it cannot be exported or derived again.</summary>
public sealed class OriginalUnreadableException(string editionId, string reason) : Exception($"the original of {editionId} cannot be read: {reason}")
{
    public string EditionId { get; } = editionId;
}

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
