using PortHistory.Contracts.V1;

namespace PortHistory.Grains.Abstractions;

/// <summary>What a differential report carries once validated, its processes looked up in the dictionary.</summary>
/// <param name="Toggled">The exclusive or of the digests of every added and removed socket (for changes).</param>
/// <param name="Added">For changes: the sockets added; for a snapshot: every socket of the host (sorted).</param>
/// <param name="ReceivedAt">When the server received the report: liveness counts from it, not from the agent's clock.</param>
[GenerateSerializer, Immutable, Alias("porthistory.HostReportInput")]
public sealed record HostReportInput(
    [property: Id(0)] HostReportKind Kind,
    [property: Id(1)] ulong EpochId,
    [property: Id(2)] DateTime EpochStartedAt,
    [property: Id(3)] ulong Seq,
    [property: Id(4)] SocketSetHash SetHash,
    [property: Id(5)] SocketSetHash Toggled,
    [property: Id(6)] HostSocketEntry[] Added,
    [property: Id(7)] HostSocketEntry[] Removed,
    [property: Id(8)] DateTime ObservedAt,
    [property: Id(9)] DateTime ReceivedAt,
    [property: Id(10)] string HostGroup,
    [property: Id(11)] string AgentVersion,
    [property: Id(12)] bool Privileged,
    [property: Id(13)] ulong DroppedReports,
    [property: Id(14)] ulong DroppedBytes);

public enum HostReportKind : byte
{
    Heartbeat = 1,
    Changes = 2,
    Snapshot = 3,
}

/// <summary>The sockets of one host in one full-report batch (agents that send every socket at every scan).</summary>
/// <param name="ObservedAt">The scan's time: batches of one scan share it, a later scan has a later one.</param>
[GenerateSerializer, Immutable, Alias("porthistory.HostScanInput")]
public sealed record HostScanInput(
    [property: Id(0)] HostSocketEntry[] Sockets,
    [property: Id(1)] DateTime ObservedAt,
    [property: Id(2)] DateTime ReceivedAt,
    [property: Id(3)] string HostGroup,
    [property: Id(4)] bool Privileged);

/// <summary>The host grain's answer to a report.</summary>
[GenerateSerializer, Immutable, Alias("porthistory.HostReportAnswer")]
public sealed record HostReportAnswer(
    [property: Id(0)] HostReportOutcome Outcome,
    [property: Id(1)] string Reason,
    [property: Id(2)] ulong Seq);
