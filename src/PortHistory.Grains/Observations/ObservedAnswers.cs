using Google.Protobuf.WellKnownTypes;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Observations;

namespace PortHistory.Grains.Observations;

/// <summary>A port's observed usage and verdicts as callers see them, within the privacy floor and the answer size budget.</summary>
internal static class ObservedAnswers
{
    private const int ExecutableShown = 1024;

    public static ObservedSummary Summary(uint port, ObservedUsage usage, IObservationContext context, bool includeHostRefs, Transport only)
    {
        var minimum = context.Options.MinHostsPerProcess;
        var summary = new ObservedSummary
        {
            Port = port,
            ReportingHosts = (ulong)context.Fleet.Reporting,
            OnlineReportingHosts = (ulong)context.Fleet.Online,
            StaleReportingHosts = (ulong)context.Fleet.Stale,
            RetiredHosts = (ulong)context.Fleet.Retired,
        };
        if (includeHostRefs)
        {
            summary.QuarantinedSightings = (ulong)usage.Quarantined;
            summary.QuarantineReasons.AddRange(usage.QuarantineReasons);
        }

        foreach (var transport in usage.Transports.OrderBy(t => t.Transport))
        {
            if (only != Transport.Unspecified && transport.Transport != only) continue;
            var observed = new ObservedTransport
            {
                Transport = transport.Transport,
                DistinctHosts = (ulong)Math.Max(transport.Hosts.Count, transport.Listeners.Current),
                Sightings = (ulong)transport.Sightings,
                OnlineHosts = (ulong)transport.Listeners.Online,
                StaleHosts = (ulong)transport.Listeners.Stale,
                FirstSeen = Timestamp.FromDateTime(transport.FirstSeen),
                LastSeen = Timestamp.FromDateTime(transport.LastSeen),
            };
            var other = transport.Other is { } evicted ? ProcessTable.Fold(null, evicted) : null;
            var otherProcesses = transport.OtherProcesses;
            var budget = PortObservations.AnswerBytesPerTransport;
            foreach (var process in transport.Processes.Values.OrderByDescending(p => p.Listeners.Current).ThenByDescending(p => p.KnownHosts).ThenBy(p => p.Name, StringComparer.Ordinal))
            {
                // Below the floor a process could single out a host: only admins see it.
                if (!includeHostRefs && process.KnownHosts < minimum)
                {
                    observed.WithheldProcesses++;
                    continue;
                }

                var item = ToContract(process, process.Name, includeHostRefs);
                budget -= item.CalculateSize();
                if (budget < 0)
                {
                    other = ProcessTable.Fold(other, process);
                    otherProcesses++;
                    continue;
                }

                observed.Processes.Add(item);
            }

            if (other is not null)
            {
                observed.Other = ToContract(other, PortObservations.OtherName, includeHostRefs: false);
                observed.OtherProcesses = (uint)Math.Min(otherProcesses, uint.MaxValue);
            }

            summary.Transports.Add(observed);
        }

        return summary;
    }

    public static Verdict ToContract(Transport transport, VerdictResult result)
    {
        var verdict = new Verdict
        {
            Transport = transport,
            Kind = (VerdictKind)(int)result.Kind,
            Reason = result.Reason,
            AssignedService = result.AssignedService ?? "",
        };
        verdict.ObservedProcesses.AddRange(result.ObservedProcesses);
        return verdict;
    }

    private static ObservedProcess ToContract(ProcessUsage process, string name, bool includeHostRefs)
    {
        var item = new ObservedProcess
        {
            ProcessName = name,
            // Paths may be 4,096 characters; an answer shows enough of one to recognise it, so a process always fits its budget.
            Executable = Shortened(process.Executable, ExecutableShown),
            DistinctHosts = (ulong)process.KnownHosts,
            OnlineHosts = (ulong)process.Listeners.Online,
            StaleHosts = (ulong)process.Listeners.Stale,
            ReachableHosts = (ulong)process.Listeners.Reachable,
            Sightings = (ulong)process.Sightings,
            FirstSeen = Timestamp.FromDateTime(process.FirstSeen),
            LastSeen = Timestamp.FromDateTime(process.LastSeen),
            WildcardSightings = (ulong)process.Wildcard,
            LoopbackSightings = (ulong)process.Loopback,
            SpecificSightings = (ulong)process.Specific,
            PrivilegedSightings = (ulong)process.Privileged,
            UnprivilegedSightings = (ulong)process.Unprivileged,
            Program = process.Program ?? "",
            SystemdUnit = process.SystemdUnit ?? "",
            Gone = process.Gone,
        };
        if (includeHostRefs) item.HostRefs.AddRange(process.HostRefs);
        return item;
    }

    /// <summary>Cut to at most <paramref name="length"/> characters, never inside a surrogate pair (which could not be encoded).</summary>
    private static string Shortened(string text, int length)
    {
        if (text.Length <= length) return text;
        if (char.IsHighSurrogate(text[length - 1])) length--;
        return text[..length] + "…";
    }
}
