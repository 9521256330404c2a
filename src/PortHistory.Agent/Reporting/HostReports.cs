using Google.Protobuf;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Reporting;

/// <summary>HostReports as the spool keeps them and logs show them.</summary>
public static class HostReports
{
    /// <summary>The report in a spool record; null when it is not one.</summary>
    public static HostReport? Parse(byte[] payload)
    {
        try
        {
            return HostReport.Parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }

    public static bool IsSnapshot(this HostReport report) => report.BodyCase == HostReport.BodyOneofCase.Snapshot;

    /// <summary>"changes +2 -1 (epoch 1f..., seq 7)", for logs.</summary>
    public static string Describe(HostReport report)
    {
        var body = report.BodyCase switch
        {
            HostReport.BodyOneofCase.Changes => $"changes +{report.Changes.Added.Count} -{report.Changes.Removed.Count}",
            HostReport.BodyOneofCase.Snapshot => $"snapshot of {report.Snapshot.Sockets.Count} sockets",
            HostReport.BodyOneofCase.Heartbeat => "heartbeat",
            _ => "without a body",
        };
        return $"{body} (epoch {report.Epoch?.Id ?? 0:x16}, seq {report.Seq})";
    }

    /// <summary>A random epoch id, never 0 (which a server may take for none).</summary>
    public static ulong NewEpochId(Random random)
    {
        Span<byte> bytes = stackalloc byte[8];
        ulong id;
        do
        {
            random.NextBytes(bytes);
            id = BitConverter.ToUInt64(bytes);
        }
        while (id == 0);
        return id;
    }
}
