namespace PortHistory.Server.Application.Following;

/// <summary>The follower's lease (one silo fetches at a time) and what it remembers per source across restarts.</summary>
public interface IFollowStore
{
    /// <summary>The follower's lease, or null when another silo holds it.</summary>
    Task<IFollowLease?> TryAcquireLeaseAsync(CancellationToken cancellationToken);

    /// <summary>Every source's state, as last saved by whichever silo followed it.</summary>
    Task<IReadOnlyList<FollowState>> LoadAllAsync(CancellationToken cancellationToken);
}

/// <summary>The held lease; the states are read and saved through it, so a lost lease fails the save instead of racing the new holder.</summary>
public interface IFollowLease : IAsyncDisposable
{
    /// <summary>False once the lease is lost (its connection dropped).</summary>
    Task<bool> IsHeldAsync(CancellationToken cancellationToken);

    Task<FollowState> LoadAsync(string source, CancellationToken cancellationToken);

    Task SaveAsync(FollowState state, CancellationToken cancellationToken);
}

/// <summary>What the follower knows of one source.</summary>
/// <param name="ETag">The validators of the last response accepted, sent back to ask "has it changed?".</param>
/// <param name="LastSha256">The body last accepted: the same bytes again import nothing.</param>
/// <param name="NextAttemptAt">When the source is due again; null: now.</param>
public sealed record FollowState(
    string Source,
    string? ETag = null,
    string? LastModified = null,
    string? LastSha256 = null,
    DateTimeOffset? LastAttemptAt = null,
    DateTimeOffset? LastSuccessAt = null,
    DateTimeOffset? LastChangeAt = null,
    int ConsecutiveFailures = 0,
    string? LastError = null,
    DateTimeOffset? NextAttemptAt = null);
