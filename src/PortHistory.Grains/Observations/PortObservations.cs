using Google.Protobuf.WellKnownTypes;
using PortHistory.Contracts.V1;
using PortHistory.Observations;
using ContractVerdictKind = PortHistory.Contracts.V1.VerdictKind;

namespace PortHistory.Grains.Observations;

/// <summary>
/// Observed usage of one port: applying journal entries exactly once (per-writer watermarks), the summaries callers
/// see (privacy floor for non-admins, host ids for admins only), and the verdicts against the registry.
/// </summary>
internal sealed class PortObservations(uint port, ObservedUsage usage, IObservationContext context)
{
    private static readonly Transport[] AllTransports = [Transport.Tcp, Transport.Udp, Transport.Sctp, Transport.Dccp];

    // Lookups by transport and by (transport, process, executable), without building the stored string key per sighting.
    private readonly TransportUsage?[] _transports = IndexTransports(usage);
    private readonly Dictionary<(Transport, string, string), ProcessUsage> _processes = usage.Transports
        .SelectMany(t => t.Processes.Values.Select(p => ((t.Transport, p.Name, p.Executable), p)))
        .ToDictionary(x => x.Item1, x => x.p);

    public ObservedUsage Usage => usage;

    public long Watermark(int writer) => usage.Watermarks.GetValueOrDefault(writer);

    /// <summary>Applies the entries (in sequence order) past this writer's watermark; returns how many were new.</summary>
    public int Apply(int writer, IReadOnlyList<ObservationEntry> entries)
    {
        var watermark = Watermark(writer);
        var applied = 0;
        foreach (var entry in entries)
        {
            if (entry.Seq <= watermark) continue;
            Add(entry);
            watermark = entry.Seq;
            applied++;
        }

        if (applied > 0) usage.Watermarks[writer] = watermark;
        return applied;
    }

    public bool HasObservations => usage.Transports.Count > 0;

    public ObservedSummary Summary(bool includeHostRefs, Transport only = Transport.Unspecified)
    {
        var minimum = context.Options.MinHostsPerProcess;
        var summary = new ObservedSummary { Port = port, ReportingHosts = (ulong)context.ReportingHosts };
        foreach (var transport in usage.Transports.OrderBy(t => t.Transport))
        {
            if (only != Transport.Unspecified && transport.Transport != only) continue;
            var observed = new ObservedTransport
            {
                Transport = transport.Transport,
                DistinctHosts = (ulong)transport.Hosts.Count,
                Sightings = (ulong)transport.Sightings,
                FirstSeen = Timestamp.FromDateTime(transport.FirstSeen),
                LastSeen = Timestamp.FromDateTime(transport.LastSeen),
            };
            foreach (var process in transport.Processes.Values.OrderByDescending(p => p.Hosts.Count).ThenBy(p => p.Name, StringComparer.Ordinal))
            {
                // Below the floor a process could single out a host: only admins see it.
                if (!includeHostRefs && process.Hosts.Count < minimum)
                {
                    observed.WithheldProcesses++;
                    continue;
                }

                var item = new ObservedProcess
                {
                    ProcessName = process.Name,
                    Executable = process.Executable,
                    DistinctHosts = (ulong)process.Hosts.Count,
                    Sightings = (ulong)process.Sightings,
                    FirstSeen = Timestamp.FromDateTime(process.FirstSeen),
                    LastSeen = Timestamp.FromDateTime(process.LastSeen),
                    WildcardSightings = (ulong)process.Wildcard,
                    LoopbackSightings = (ulong)process.Loopback,
                    SpecificSightings = (ulong)process.Specific,
                    PrivilegedSightings = (ulong)process.Privileged,
                    UnprivilegedSightings = (ulong)process.Unprivileged,
                };
                if (includeHostRefs) item.HostRefs.AddRange(process.HostRefs);
                observed.Processes.Add(item);
            }

            summary.Transports.Add(observed);
        }

        return summary;
    }

    /// <summary>The verdict per transport that has something to say, against the registry as it stands now.</summary>
    public IReadOnlyList<(Transport Transport, VerdictResult Result, TransportUsage? Usage)> Verdicts(Func<Transport, RegistrySide> registry)
    {
        var verdicts = new List<(Transport, VerdictResult, TransportUsage?)>();
        foreach (var transport in AllTransports)
        {
            var side = registry(transport);
            var observed = usage.Transports.FirstOrDefault(t => t.Transport == transport);
            var known = new HashSet<string>(side.AssignedNames, StringComparer.OrdinalIgnoreCase);
            var processes = observed is null
                ? []
                : observed.Processes.Values.Select(p => new ObservedProcessSide(p.Name, p.Executable, p.Hosts.Count, p.Sightings,
                    context.Processes.Match(p.Name, p.Executable, known.Contains))).ToList();
            var result = VerdictRules.Decide((int)port, side, processes, observed?.Hosts.Count ?? 0, context.ReportingHosts, context.Options);
            if (result is not null) verdicts.Add((transport, result, observed));
        }

        return verdicts;
    }

    public static Verdict ToContract(Transport transport, VerdictResult result)
    {
        var verdict = new Verdict
        {
            Transport = transport,
            Kind = (ContractVerdictKind)(int)result.Kind,
            Reason = result.Reason,
            AssignedService = result.AssignedService ?? "",
        };
        verdict.ObservedProcesses.AddRange(result.ObservedProcesses);
        return verdict;
    }

    /// <summary>Index rows for the transports that were observed (unobserved ghosts come from the registry index).</summary>
    public IReadOnlyList<ObservationIndexRow> IndexRows(Func<Transport, RegistrySide> registry) =>
        [.. Verdicts(registry).Where(v => v.Usage is not null).Select(v => new ObservationIndexRow(v.Transport, v.Usage!.Hosts.Count, v.Usage.Sightings,
            v.Usage.FirstSeen, v.Usage.LastSeen, (ContractVerdictKind)(int)v.Result.Kind, v.Result.Reason, v.Result.AssignedService, [.. v.Result.ObservedProcesses]))];

    private static TransportUsage?[] IndexTransports(ObservedUsage usage)
    {
        var index = new TransportUsage?[(int)Transport.Dccp + 1];
        foreach (var transport in usage.Transports) index[(int)transport.Transport] = transport;
        return index;
    }

    private void Add(ObservationEntry entry)
    {
        var transport = _transports[(int)entry.Transport];
        if (transport is null)
        {
            transport = new TransportUsage { Transport = entry.Transport, FirstSeen = entry.ObservedAt, LastSeen = entry.ObservedAt };
            usage.Transports.Add(transport);
            _transports[(int)entry.Transport] = transport;
        }

        transport.Hosts.Add(entry.HostHash);
        transport.Sightings++;
        if (entry.ObservedAt < transport.FirstSeen) transport.FirstSeen = entry.ObservedAt;
        if (entry.ObservedAt > transport.LastSeen) transport.LastSeen = entry.ObservedAt;

        if (!_processes.TryGetValue((entry.Transport, entry.Process, entry.Executable), out var process))
        {
            process = new ProcessUsage { Name = entry.Process, Executable = entry.Executable, FirstSeen = entry.ObservedAt, LastSeen = entry.ObservedAt };
            transport.Processes[entry.Process + "\0" + entry.Executable] = process;
            _processes[(entry.Transport, entry.Process, entry.Executable)] = process;
        }

        if (process.Hosts.Add(entry.HostHash) && process.HostRefs.Count < ProcessUsage.HostRefsKept) process.HostRefs.Add(entry.HostRef);
        process.Sightings++;
        if (entry.ObservedAt < process.FirstSeen) process.FirstSeen = entry.ObservedAt;
        if (entry.ObservedAt > process.LastSeen) process.LastSeen = entry.ObservedAt;
        switch (entry.Scope)
        {
            case BindScope.Wildcard: process.Wildcard++; break;
            case BindScope.Loopback: process.Loopback++; break;
            default: process.Specific++; break;
        }

        if (entry.Privileged) process.Privileged++;
        else process.Unprivileged++;
    }
}
