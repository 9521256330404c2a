using PortHistory.Registry.Model;

namespace PortHistory.Server.Application.Registry;

/// <summary>The editions table: every edition received, its bytes, and whether a committed generation contains it.</summary>
public interface IEditionStore
{
    /// <summary>
    /// Records a parsed edition as pending. The same bytes already stored (by SHA-256) give that edition back; another
    /// file under the same id is a conflict.
    /// </summary>
    Task<SubmitOutcome> AddPendingAsync(RegistryEdition edition, ReadOnlyMemory<byte> content, CancellationToken cancellationToken);

    /// <summary>Complete and pending editions with their bytes and the choices made when they were received.</summary>
    Task<IReadOnlyList<StoredEdition>> LoadAllAsync(CancellationToken cancellationToken);

    Task<FoundEdition?> FindAsync(string id, CancellationToken cancellationToken);

    /// <summary>The committed editions in history order, and the generation they belong to, from one snapshot.</summary>
    Task<CommittedEditions> ListCommittedAsync(CancellationToken cancellationToken);
}

public enum SubmitResult
{
    Queued,
    AlreadyImported,
    IdTaken,
}

/// <summary>What happened to a submitted edition; for <see cref="SubmitResult.IdTaken"/>, the id and the other file's hash.</summary>
public sealed record SubmitOutcome(SubmitResult Result, string EditionId, string? ExistingSha256);

/// <summary>An edition as stored: its bytes and the id, format, title and date settled when it was received.</summary>
public sealed record StoredEdition(
    string Id,
    string Sha256,
    EditionFileFormat Format,
    string Title,
    DateOnly EffectiveDate,
    EditionDateSource DateSource,
    string Source,
    bool Pending,
    byte[] Content);

/// <summary>One stored edition's summary, when it was committed and in which generation (none while pending).</summary>
public sealed record FoundEdition(EditionOverview Summary, DateTimeOffset? CommittedAt, long? Generation, bool Pending);

public sealed record CommittedEditions(IReadOnlyList<(EditionOverview Summary, DateTimeOffset? CommittedAt)> Editions, long Generation);
