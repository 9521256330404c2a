using Grpc.Core;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Tests;

/// <summary>
/// A Sightings service in memory: answers ReportBatch like the server (a batch_id seen before is a duplicate, counted
/// once) and ReportHost by a small model of the server's rules (<see cref="Answer(HostReport)"/>), or fails every call
/// with Unavailable while <see cref="Down"/>. No sockets, no sleeping.
/// </summary>
public sealed class FakeSightingsServer : UnaryCallInvoker
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _seen = [];
    private readonly Dictionary<string, HeldHost> _hosts = [];

    /// <summary>What the server holds for a host: its epoch, the seq of the last report applied, and the set.</summary>
    public sealed record HeldHost(ReportEpoch Epoch, ulong Seq, HashSet<HostSocket> Set)
    {
        public SocketSetHash Hash => SocketSetHash.Of(Set);
    }

    public bool Down { get; set; }

    /// <summary>An older server: ReportHost answers Unimplemented.</summary>
    public bool WithoutHostReports { get; set; }

    /// <summary>Batches recorded, in the order they first arrived.</summary>
    public List<SightingBatch> Recorded { get; } = [];

    /// <summary>Every host report that reached the model, with the outcome it got.</summary>
    public List<(HostReport Report, HostReportOutcome Outcome)> HostReports { get; } = [];

    /// <summary>Every call, answered or not.</summary>
    public int Calls { get; private set; }

    /// <summary>Answers a batch with this error (refused as a whole) when it returns one.</summary>
    public Func<SightingBatch, string?> Refuse { get; set; } = _ => null;

    /// <summary>Applies a host report but loses the answer (Unavailable) when this says so: the agent sends it again.</summary>
    public Func<HostReport, bool> LoseAnswerTo { get; set; } = _ => false;

    /// <summary>Fails a host report with this exception (ResourceExhausted, PermissionDenied...) when it returns one.</summary>
    public Func<HostReport, RpcException?> FailReport { get; set; } = _ => null;

    public HeldHost? Held(string hostRef)
    {
        lock (_gate) return _hosts.GetValueOrDefault(hostRef);
    }

    /// <summary>Forgets a host, as a server restored from an old backup might.</summary>
    public void Forget(string hostRef)
    {
        lock (_gate) _hosts.Remove(hostRef);
    }

    protected override object Answer(IMethod method, object request, CallOptions options)
    {
        lock (_gate)
        {
            Calls++;
            if (Down) throw new RpcException(new Status(StatusCode.Unavailable, "server down for the test"));
            return request switch
            {
                SightingBatch batch => Answer(batch),
                HostReport report when WithoutHostReports => throw new RpcException(new Status(StatusCode.Unimplemented, $"no method {method.Name}")),
                HostReport report => FailReport(report) is { } failure ? throw failure : Record(report),
                _ => throw new RpcException(new Status(StatusCode.Unimplemented, method.FullName)),
            };
        }
    }

    private BatchResult Answer(SightingBatch batch)
    {
        if (Refuse(batch) is { } error) return new BatchResult { BatchId = batch.BatchId, Error = error };
        var duplicate = !_seen.Add(batch.BatchId);
        if (!duplicate) Recorded.Add(batch.Clone());
        return new BatchResult { BatchId = batch.BatchId, Accepted = (uint)batch.Sightings.Count, Duplicate = duplicate };
    }

    private HostReportResult Record(HostReport report)
    {
        var result = Answer(report);
        HostReports.Add((report.Clone(), result.Outcome));
        if (LoseAnswerTo(report)) throw new RpcException(new Status(StatusCode.Unavailable, "answer lost for the test"));
        return result;
    }

    /// <summary>
    /// The server's rules: a heartbeat of the held epoch, seq and hash is applied; changes with the next seq whose result
    /// has the reported hash are applied; a seq already held in the epoch is a duplicate; a gap, an unknown epoch or a
    /// hash that does not match is RESYNC; a snapshot of an epoch not older than the held one replaces the set.
    /// </summary>
    private HostReportResult Answer(HostReport report)
    {
        var held = _hosts.GetValueOrDefault(report.HostRef);
        var sameEpoch = held is not null && report.Epoch?.Id == held.Epoch.Id;
        var hash = SocketSetHash.From(report.SetHash);
        HostReportResult Resync(string reason) => new() { Outcome = HostReportOutcome.Resync, Reason = reason, Seq = held?.Seq ?? 0 };
        HostReportResult Outcome(HostReportOutcome outcome) => new() { Outcome = outcome, Seq = _hosts.GetValueOrDefault(report.HostRef)?.Seq ?? 0 };

        switch (report.BodyCase)
        {
            case HostReport.BodyOneofCase.Heartbeat:
                return sameEpoch && report.Seq == held!.Seq && hash == held.Hash ? Outcome(HostReportOutcome.Applied) : Resync("heartbeat does not match");
            case HostReport.BodyOneofCase.Changes:
                if (!sameEpoch) return Resync("unknown epoch");
                if (report.Seq <= held!.Seq) return Outcome(HostReportOutcome.Duplicate);
                if (report.Seq != held.Seq + 1) return Resync($"gap: seq {report.Seq} after {held.Seq}");
                var changed = new HashSet<HostSocket>(held.Set);
                changed.ExceptWith(report.Changes.Removed);
                changed.UnionWith(report.Changes.Added);
                if (SocketSetHash.Of(changed) != hash) return Resync("set_hash differs from the result");
                _hosts[report.HostRef] = held with { Seq = report.Seq, Set = changed };
                return Outcome(HostReportOutcome.Applied);
            case HostReport.BodyOneofCase.Snapshot:
                if (report.Epoch is null) return Resync("no epoch");
                if (held is not null && !sameEpoch && report.Epoch.StartedAt.ToDateTimeOffset() < held.Epoch.StartedAt.ToDateTimeOffset()) return Resync("stale epoch");
                if (sameEpoch && report.Seq <= held!.Seq) return Outcome(HostReportOutcome.Duplicate);
                var set = report.Snapshot.Sockets.ToHashSet();
                if (SocketSetHash.Of(set) != hash) return Resync("set_hash differs from the snapshot");
                _hosts[report.HostRef] = new HeldHost(report.Epoch.Clone(), report.Seq, set);
                return Outcome(HostReportOutcome.Applied);
            default:
                throw new RpcException(new Status(StatusCode.InvalidArgument, "a report without a body"));
        }
    }
}
