using PortHistory.Grains.Abstractions;

namespace PortHistory.Grains.Hosts;

/// <summary>What a host grain does with a report.</summary>
internal abstract record HostDecision
{
    /// <summary>The report is applied: the host's set becomes <see cref="Sockets"/>.</summary>
    public sealed record Apply(HostSocketEntry[] Sockets) : HostDecision;

    /// <summary>A heartbeat that matches what is held: the host is alive, nothing else changes.</summary>
    public sealed record Alive : HostDecision;

    /// <summary>Applied before (a retry or a replay): nothing changes again.</summary>
    public sealed record Duplicate : HostDecision;

    /// <summary>The report does not follow from what is held: nothing is applied, the agent sends a snapshot.</summary>
    public sealed record Resync(string Reason) : HostDecision;
}

/// <summary>
/// The checks of differential reporting, against what the host's grain holds: the epoch (the agent's state), the seq
/// (every change and snapshot counts up by one within an epoch) and the set digest (the whole set after the report).
/// </summary>
public static class HostReportRules
{
    /// <summary>
    /// A heartbeat of an online host that matches what is held and brings no new figures: its grain would change
    /// nothing but the time the host was heard, so the silo may answer it from memory.
    /// </summary>
    public static bool OnlyHeard(HostRecord held, HostReportInput input) =>
        input.Kind == HostReportKind.Heartbeat && held.State == HostState.Online && Decide(held, input) is HostDecision.Alive
        && held.HostGroup == input.HostGroup && held.AgentVersion == input.AgentVersion && held.Privileged == input.Privileged
        && input.DroppedReports <= held.DroppedReports && input.DroppedBytes <= held.DroppedBytes;

    internal static HostDecision Decide(HostRecord held, HostReportInput input)
    {
        if (input.EpochId != held.EpochId || held.EpochId == 0)
        {
            if (held.EpochId != 0 && input.EpochStartedAt < held.EpochStartedAt)
            {
                return new HostDecision.Resync(
                    $"epoch {input.EpochId:x16} began {input.EpochStartedAt:O}, before the epoch the server holds ({held.EpochStartedAt:O}): start a new epoch");
            }

            // A new epoch (the agent lost or reset its state) begins with a snapshot; anything else cannot follow.
            return input.Kind == HostReportKind.Snapshot
                ? new HostDecision.Apply(HostSocketSet.Normalize(input.Added))
                : new HostDecision.Resync(held.EpochId == 0
                    ? "the server holds no reporting state for this host: send a snapshot"
                    : $"unknown epoch {input.EpochId:x16} (the server holds {held.EpochId:x16}): send a snapshot");
        }

        if (input.Kind == HostReportKind.Heartbeat)
        {
            if (input.Seq != held.Seq) return new HostDecision.Resync($"heartbeat at seq {input.Seq}, the server holds seq {held.Seq}: send a snapshot");
            return input.SetHash == held.SetHash
                ? new HostDecision.Alive()
                : new HostDecision.Resync($"the set digest {input.SetHash} differs from the server's {held.SetHash}: send a snapshot");
        }

        if (input.Seq <= held.Seq) return new HostDecision.Duplicate();
        // A snapshot stands on its own: after a gap it is the agent's answer to RESYNC, whatever seq it carries.
        if (input.Kind == HostReportKind.Snapshot) return new HostDecision.Apply(HostSocketSet.Normalize(input.Added));
        if (input.Seq != held.Seq + 1) return new HostDecision.Resync($"seq {input.Seq} after {held.Seq}: reports are missing; send a snapshot");

        var (set, problem) = HostSocketSet.Apply(held.Sockets, input.Added, input.Removed);
        if (set is null) return new HostDecision.Resync($"the change {problem}: send a snapshot");
        return (held.SetHash ^ input.Toggled) == input.SetHash
            ? new HostDecision.Apply(set)
            : new HostDecision.Resync($"after the change the set digest would be {held.SetHash ^ input.Toggled}, the report says {input.SetHash}: send a snapshot");
    }
}
