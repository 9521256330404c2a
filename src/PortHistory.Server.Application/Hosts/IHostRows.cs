using PortHistory.Grains.Abstractions;

namespace PortHistory.Server.Application.Hosts;

/// <summary>Liveness figures a silo writes for its hosts now and then, in batches (heartbeats themselves write nothing).</summary>
public readonly record struct HostPulseRow(string HostRef, DateTime LastSeen, string AgentVersion, ulong DroppedReports, ulong DroppedBytes);

/// <summary>The host rows as the fleet's queries, sweeps and last-seen writes use them (host grains load and write their own rows).</summary>
public interface IHostRows
{
    /// <summary>Hosts in host_ref order after <paramref name="after"/>, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<HostRecord>> ListAsync(HostState? state, string? hostGroup, string after, int limit, CancellationToken cancellationToken);

    Task<FleetCounts> CountAsync(CancellationToken cancellationToken);

    /// <summary>Moves last-seen times forward (never back), with the agents' figures.</summary>
    Task WriteLastSeenAsync(IReadOnlyList<HostPulseRow> rows, CancellationToken cancellationToken);

    /// <summary>Hosts stored in <paramref name="state"/> whose stored last-seen time is before <paramref name="before"/>, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<string>> SilentAsync(HostState state, DateTime before, int limit, CancellationToken cancellationToken);

    /// <summary>The cluster-wide sweep of stored hosts, on one silo at a time: null when another silo holds it.</summary>
    Task<IAsyncDisposable?> TryLockSweepAsync(CancellationToken cancellationToken);
}
