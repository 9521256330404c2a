namespace PortHistory.Grains.Abstractions;

/// <summary>The host rows as host grains read them when they activate.</summary>
public interface IHostStore
{
    /// <summary>The host's row, or null when the host was never seen.</summary>
    Task<HostRecord?> LoadAsync(string hostRef, CancellationToken cancellationToken);
}

/// <summary>
/// Makes a host's change durable: its new row and the listener changes it causes, in one transaction, only if the
/// stored row is still at <see cref="HostCommit.ExpectedVersion"/>. The changes then go to their port grains.
/// </summary>
public interface IHostCommits
{
    /// <returns>False when the stored row is not at the expected version (another activation wrote it): nothing was written.</returns>
    Task<bool> CommitAsync(HostCommit commit, CancellationToken cancellationToken);
}

/// <param name="Row">The row to store, its version already the next one.</param>
/// <param name="ExpectedVersion">The version the grain read (0: no row yet).</param>
[GenerateSerializer, Immutable, Alias("porthistory.HostCommit")]
public sealed record HostCommit(
    [property: Id(0)] HostRecord Row,
    [property: Id(1)] long ExpectedVersion,
    [property: Id(2)] ListenerDelta[] Changes,
    [property: Id(3)] DateTime ChangedAt);

/// <summary>
/// This silo's view of when its active hosts were last heard: host grains note every report here, so that liveness is
/// kept in memory (a heartbeat writes nothing) and the silo's liveness sweep finds the silent ones. It also answers
/// heartbeats that would change nothing but that time, from what the grain last told it it holds; so a grain learns
/// from here when its host was last heard, and turns it silent only through <see cref="TrySilence"/>.
/// </summary>
public interface IHostPulse
{
    /// <summary>The host was heard at <paramref name="heardAt"/>; <paramref name="held"/> is what its grain holds (its stored last-seen time included).</summary>
    void Heard(HostRecord held, DateTime heardAt);

    /// <summary>What the host's grain holds now, without word from the host (a commit, a reload).</summary>
    void Holds(HostRecord held);

    /// <summary>When the host was last heard here, heartbeats answered without its grain included; null when not known here.</summary>
    DateTime? LastHeard(string hostRef);

    /// <summary>
    /// Unless the host was heard at or after <paramref name="heardBefore"/>, it now holds <paramref name="silent"/>
    /// (stale or retired), so that every heartbeat from then on goes to the grain; false when it was heard meanwhile.
    /// Checked and changed at once, so that no heartbeat is answered in between.
    /// </summary>
    bool TrySilence(HostRecord silent, DateTime heardBefore);

    void Forget(string hostRef);

    /// <summary>
    /// A place among the host activations this silo runs at once (each reads its row), or null when they are all taken
    /// (many agents reconnecting at once): the report is then answered with a time to come back.
    /// </summary>
    IDisposable? TryActivate();
}

/// <summary>The server is catching up (too many hosts loading at once): come back after <see cref="RetryAfter"/>.</summary>
[GenerateSerializer, Alias("porthistory.HostsBusyException")]
public sealed class HostsBusyException(TimeSpan retryAfter) : Exception($"the server is catching up with its hosts; retry after {retryAfter.TotalSeconds:0} s")
{
    [Id(0)]
    public TimeSpan RetryAfter { get; } = retryAfter;
}
