using Google.Protobuf.WellKnownTypes;
using PortHistory.Contracts.V1;

namespace PortHistory.Testing;

/// <summary>Host reports as an agent of this version sends them: a snapshot, changes or a heartbeat, each with the hash of the set after it.</summary>
public static class HostReports
{
    public static HostReport Snapshot(string host, ReportEpoch epoch, ulong seq, IReadOnlyList<HostSocket> sockets, DateTime? at = null)
    {
        var report = Report(host, epoch, seq, sockets, at);
        report.Snapshot = new HostSnapshot { Sockets = { sockets } };
        return report;
    }

    public static HostReport Changes(string host, ReportEpoch epoch, ulong seq, IReadOnlyList<HostSocket> added, IReadOnlyList<HostSocket> removed,
        IReadOnlyList<HostSocket> after, DateTime? at = null)
    {
        var report = Report(host, epoch, seq, after, at);
        report.Changes = new HostChanges { Added = { added }, Removed = { removed } };
        return report;
    }

    public static HostReport Heartbeat(string host, ReportEpoch epoch, ulong seq, IReadOnlyList<HostSocket> held, DateTime? at = null)
    {
        var report = Report(host, epoch, seq, held, at);
        report.Heartbeat = new HostHeartbeat();
        return report;
    }

    /// <summary>Observed at <paramref name="at"/>, or a second ago.</summary>
    private static HostReport Report(string host, ReportEpoch epoch, ulong seq, IEnumerable<HostSocket> after, DateTime? at) => new()
    {
        HostRef = host, Epoch = epoch, Seq = seq, SetHash = SocketSetHash.Of(after).ToByteString(), AgentVersion = "2.0.0",
        ObservedAt = Timestamp.FromDateTime(at ?? DateTime.UtcNow.AddSeconds(-1)),
    };
}
