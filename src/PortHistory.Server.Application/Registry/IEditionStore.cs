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
