using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Sightings;
using PortHistory.Contracts;

namespace PortHistory.Server.Application.Hosts;

/// <summary>A report that passed validation: its sockets as sent (their text is what the set digest is of).</summary>
public sealed record ValidHostReport(
    string HostRef,
    HostReportKind Kind,
    ulong EpochId,
    DateTime EpochStartedAt,
    ulong Seq,
    SocketSetHash SetHash,
    SocketSetHash Toggled,
    IReadOnlyList<HostSocket> Added,
    IReadOnlyList<HostSocket> Removed,
    DateTime ObservedAt,
    string HostGroup,
    string AgentVersion,
    bool Privileged,
    ulong DroppedReports,
    ulong DroppedBytes);

/// <summary>Why a report is refused: the field, the reason, and whether it is too big (ResourceExhausted) rather than wrong.</summary>
public sealed record HostReportRefusal(string Field, string Reason, bool TooLarge = false);

/// <summary>
/// Checks a differential report field by field, enums against their defined values. Socket text is checked, never
/// changed: the set digest the agent sent is of exactly that text.
/// </summary>
public sealed class HostReportValidator(IOptions<HostReportingOptions> hosts, IOptions<SightingOptions> sightings, TimeProvider clock)
{
    public const int MaxAgentVersionLength = 32;

    public (ValidHostReport? Report, HostReportRefusal? Refusal) Validate(HostReport report)
    {
        if (WireText.Check(report.HostRef, 128, required: true) is { } hostRef) return Refuse("host_ref", hostRef);
        if (report.HostRef.Trim().Length != report.HostRef.Length) return Refuse("host_ref", "must not start or end with whitespace");
        if (report.Epoch is null) return Refuse("epoch", "is required");
        if (report.Epoch.Id == 0) return Refuse("epoch.id", "must not be 0");
        var now = clock.GetUtcNow().UtcDateTime;
        if (Time(report.Epoch.StartedAt, "epoch.started_at", now, out var epochStarted) is { } badEpoch) return (null, badEpoch);
        if (report.Seq == 0) return Refuse("seq", "must be at least 1 (it counts up from 1 within an epoch)");
        if (SocketSetHash.From(report.SetHash) is not { } setHash) return Refuse("set_hash", $"must be {SocketSetHash.Length} bytes, got {report.SetHash.Length}");
        if (Time(report.ObservedAt, "observed_at", now, out var observed) is { } badObserved) return (null, badObserved);
        if (WireText.CheckName(report.HostGroup, SightingValidator.MaxHostGroupLength) is { } group) return Refuse("host_group", group);
        if (WireText.Check(report.AgentVersion, MaxAgentVersionLength) is { } version) return Refuse("agent_version", version);

        var limit = hosts.Value.MaxSocketsPerReport;
        IReadOnlyList<HostSocket> added, removed;
        var toggled = SocketSetHash.Empty;
        HostReportKind kind;
        switch (report.BodyCase)
        {
            case HostReport.BodyOneofCase.Heartbeat:
                (kind, added, removed) = (HostReportKind.Heartbeat, [], []);
                break;
            case HostReport.BodyOneofCase.Changes:
                kind = HostReportKind.Changes;
                if (report.Changes.Added.Count + report.Changes.Removed.Count > limit)
                {
                    return (null, new HostReportRefusal("changes", $"{report.Changes.Added.Count + report.Changes.Removed.Count} sockets in one change; the limit is {limit}: send a snapshot", TooLarge: true));
                }

                if (Sockets(report.Changes.Added, "changes.added") is { } badAdded) return (null, badAdded);
                if (Sockets(report.Changes.Removed, "changes.removed") is { } badRemoved) return (null, badRemoved);
                (added, removed) = (report.Changes.Added, report.Changes.Removed);
                foreach (var socket in added.Concat(removed)) toggled ^= SocketSetHash.Member(socket);
                break;
            case HostReport.BodyOneofCase.Snapshot:
                kind = HostReportKind.Snapshot;
                if (report.Snapshot.Sockets.Count > limit)
                {
                    return (null, new HostReportRefusal("snapshot.sockets", $"{report.Snapshot.Sockets.Count} sockets in one snapshot; the limit is {limit}", TooLarge: true));
                }

                if (Sockets(report.Snapshot.Sockets, "snapshot.sockets") is { } badSnapshot) return (null, badSnapshot);
                (added, removed) = (report.Snapshot.Sockets, []);
                var digest = SocketSetHash.Of(added);
                if (digest != setHash) return Refuse("set_hash", $"is {setHash}, but the snapshot's sockets make {digest}");
                break;
            default:
                return Refuse("body", "one of changes, snapshot or heartbeat is required");
        }

        var drops = report.Drops ?? new SpoolDrops();
        return (new ValidHostReport(report.HostRef, kind, report.Epoch.Id, epochStarted, report.Seq, setHash, toggled, added, removed, observed,
            report.HostGroup.Trim(), report.AgentVersion, report.AgentPrivileged, drops.Reports, drops.Bytes), null);
    }

    /// <summary>A timestamp that exists, not ahead of the server's clock by more than the skew allowed, not before the accepted age.</summary>
    private HostReportRefusal? Time(Google.Protobuf.WellKnownTypes.Timestamp? timestamp, string field, DateTime now, out DateTime value)
    {
        value = default;
        if (timestamp is null) return new HostReportRefusal(field, "is required");
        if (timestamp.Nanos is < 0 or > 999_999_999) return new HostReportRefusal(field, $"nanos must be 0-999999999, got {timestamp.Nanos}");
        try
        {
            value = timestamp.ToDateTime();
        }
        catch (InvalidOperationException)
        {
            return new HostReportRefusal(field, "is not a valid timestamp");
        }

        if (value > now + sightings.Value.MaxClockSkew) return new HostReportRefusal(field, $"is in the future ({value:O}, server time {now:O})");
        return null;
    }

    private static HostReportRefusal? Sockets(IReadOnlyList<HostSocket> sockets, string field)
    {
        for (var i = 0; i < sockets.Count; i++)
        {
            if (HostSocketRules.Check(sockets[i]) is var (name, reason)) return new HostReportRefusal($"{field}[{i}].{name}", reason);
        }

        return null;
    }

    private static (ValidHostReport?, HostReportRefusal?) Refuse(string field, string reason) => (null, new HostReportRefusal(field, reason));
}
