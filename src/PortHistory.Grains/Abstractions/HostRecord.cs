using PortHistory.Contracts.V1;

namespace PortHistory.Grains.Abstractions;

/// <summary>Where a host stands: heard lately, silent for a while (its sockets kept), or retired (its sockets removed).</summary>
public enum HostState : byte
{
    Online = 1,
    Stale = 2,
    Retired = 3,
}

/// <summary>
/// Everything a host grain holds, as stored (one row per host, written with the changes it causes). Sockets are kept
/// sorted (<see cref="HostSocketEntry.CompareTo"/>).
/// </summary>
/// <param name="Version">Bumped by every write of the row; a write names the version it read.</param>
/// <param name="EpochId">0: no differential reporting state (a new host, or one that reports full scans).</param>
[GenerateSerializer, Immutable, Alias("porthistory.HostRecord")]
public sealed record HostRecord(
    [property: Id(0)] string HostRef,
    [property: Id(1)] long Version,
    [property: Id(2)] HostState State,
    [property: Id(3)] DateTime StateSince,
    [property: Id(4)] ulong EpochId,
    [property: Id(5)] DateTime EpochStartedAt,
    [property: Id(6)] ulong Seq,
    [property: Id(7)] SocketSetHash SetHash,
    [property: Id(8)] HostSocketEntry[] Sockets,
    [property: Id(9)] string HostGroup,
    [property: Id(10)] string AgentVersion,
    [property: Id(11)] bool Privileged,
    [property: Id(12)] ulong DroppedReports,
    [property: Id(13)] ulong DroppedBytes,
    [property: Id(14)] DateTime FirstSeen,
    [property: Id(15)] DateTime LastSeen,
    [property: Id(16)] DateTime? LastSnapshotAt,
    [property: Id(17)] string? RetiredReason)
{
    /// <summary>A host never seen: nothing held, no epoch, version 0 (its first write creates the row).</summary>
    public static HostRecord New(string hostRef, DateTime now) =>
        new(hostRef, 0, HostState.Online, now, 0, DateTime.MinValue, 0, SocketSetHash.Empty, [], "", "", false, 0, 0, now, now, null, null);
}
