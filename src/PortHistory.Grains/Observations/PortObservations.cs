using Google.Protobuf.WellKnownTypes;
using PortHistory.Contracts.V1;
using PortHistory.Observations;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Grains.Observations;

/// <summary>
/// Observed usage of one port: applying journal entries exactly once (per-writer watermarks), the summaries callers
/// see (privacy floor for non-admins, host ids for admins only), and the verdicts against the registry.
/// What agents send cannot grow it without bound: per transport at most <see cref="MaxProcessesPerTransport"/>
/// processes are kept (the rest added up as "other"), distinct hosts are counted in a <see cref="HostSet"/>, an
/// entry that cannot be applied is quarantined (skipped and counted), and answers stay within a size budget
/// (<see cref="ObservedAnswers"/> shapes them). Kept as one class of about 300 lines: applying, evicting, ageing out and
/// judging share the same lookups and must change together.
/// </summary>
internal sealed class PortObservations
{
    public const int MaxProcessesPerTransport = 32;

    /// <summary>Encoded bytes of one transport's listed processes in an answer (four transports stay well under 64 KB).</summary>
    public const int AnswerBytesPerTransport = 12 * 1024;

    private const int QuarantineReasonsKept = 5;
    internal const string OtherName = "(other)";

    private readonly uint _port;
    private readonly ObservedUsage _usage;
    private readonly IObservationContext _context;
    private readonly IExpectationCatalog _expectations;
    private readonly ILocalServiceTables _localTables;

    // Lookups by transport and by (transport, process identity), without building the stored string key per sighting.
    private readonly TransportUsage?[] _transports = new TransportUsage?[(int)Transport.Dccp + 1];
    private readonly Dictionary<(Transport, string, string, string, string), ProcessUsage> _processes = [];

    /// <param name="expectations">Null: none (verdicts by the registry alone).</param>
    /// <param name="localTables">Null: none.</param>
    public PortObservations(uint port, ObservedUsage usage, IObservationContext context, IExpectationCatalog? expectations = null,
        ILocalServiceTables? localTables = null)
    {
        (_port, _usage, _context) = (port, usage, context);
        (_expectations, _localTables) = (expectations ?? NoExpectations.Instance, localTables ?? NoLocalTables.Instance);
        foreach (var transport in usage.Transports)
        {
            MoveLegacyHosts(transport.LegacyHosts, transport.Hosts, HostSetLimits.Transport);
            transport.LegacyHosts = null;
            _transports[(int)transport.Transport] = transport;
            foreach (var process in transport.Processes.Values)
            {
                MoveLegacyHosts(process.LegacyHosts, process.Hosts, HostSetLimits.Process);
                process.LegacyHosts = null;
                // States written before programs and units were kept have null there.
                (process.Program, process.SystemdUnit) = (process.Program ?? "", process.SystemdUnit ?? "");
                _processes[(transport.Transport, process.Name, process.Executable, process.Program, process.SystemdUnit)] = process;
            }
        }
    }

    /// <summary>
    /// Processes that reached the verdicts' minimum of hosts in what was applied since the last call of
    /// <see cref="TakeNewlyCounted"/>, and whether anything a verdict depends on changed that way (a process counted,
    /// a transport first observed): the watch feed looks at verdicts then, and at every checkpoint.
    /// </summary>
    private readonly List<(Transport Transport, ProcessUsage Process)> _newlyCounted = [];

    /// <summary>Counted processes <see cref="MarkGone"/> found gone since the last call of <see cref="TakeNewlyGone"/>.</summary>
    private readonly List<(Transport Transport, ProcessUsage Process)> _newlyGone = [];

    public bool VerdictInputsChanged { get; private set; }

    public IReadOnlyList<(Transport Transport, ProcessUsage Process)> TakeNewlyCounted()
    {
        VerdictInputsChanged = false;
        return Take(_newlyCounted);
    }

    public IReadOnlyList<(Transport Transport, ProcessUsage Process)> TakeNewlyGone() => Take(_newlyGone);

    private static IReadOnlyList<(Transport, ProcessUsage)> Take(List<(Transport, ProcessUsage)> list)
    {
        if (list.Count == 0) return [];
        IReadOnlyList<(Transport, ProcessUsage)> taken = [.. list];
        list.Clear();
        return taken;
    }

    /// <summary>
    /// Marks gone every process (and "other") no host has reported since <paramref name="seenBefore"/>; returns how many.
    /// Gone processes are left out of verdicts; the counted ones are announced (a process below the privacy floor never
    /// was, so its leaving is not either). A sighting newer than a gone process's last one brings it back.
    /// </summary>
    public int MarkGone(DateTime seenBefore)
    {
        var marked = 0;
        foreach (var transport in _usage.Transports)
        {
            foreach (var process in transport.Processes.Values)
            {
                if (process.Gone || process.LastSeen >= seenBefore) continue;
                process.Gone = true;
                marked++;
                if (Counted(process)) _newlyGone.Add((transport.Transport, process));
            }

            if (transport.Other is { Gone: false } other && other.LastSeen < seenBefore)
            {
                other.Gone = true;
                marked++;
            }
        }

        if (marked > 0) VerdictInputsChanged = true;
        return marked;
    }

    /// <summary>The oldest last sighting of a process not gone on the transport (when the next one may go), or null when none is left.</summary>
    public static DateTime? OldestLiveSeen(TransportUsage transport)
    {
        // Asked by every verdict: a loop, no allocation.
        DateTime? oldest = transport.Other is { Gone: false } other ? other.LastSeen : null;
        foreach (var process in transport.Processes.Values)
        {
            if (!process.Gone && (oldest is null || process.LastSeen < oldest)) oldest = process.LastSeen;
        }

        return oldest;
    }

    private bool Counted(ProcessUsage process) => process.Hosts.Count >= _context.Options.MinHostsPerProcess;

    public ObservedUsage Usage => _usage;

    public long Watermark(int writer) => _usage.Watermarks.GetValueOrDefault(writer);

    /// <summary>Applies the entries (in sequence order) past this writer's watermark; returns how many were new.</summary>
    public int Apply(int writer, IReadOnlyList<ObservationEntry> entries)
    {
        var watermark = Watermark(writer);
        var applied = 0;
        foreach (var entry in entries)
        {
            if (entry.Seq <= watermark) continue;
            // A bad entry must not stop the port: it is counted and passed over, and the watermark moves past it.
            if (Unusable(entry) is { } reason) Quarantine(writer, entry.Seq, reason);
            else Add(entry);
            watermark = entry.Seq;
            applied++;
        }

        if (applied > 0) _usage.Watermarks[writer] = watermark;
        return applied;
    }

    public bool HasObservations => _usage.Transports.Count > 0;

    /// <summary>What callers see: below the privacy floor processes are withheld unless <paramref name="includeHostRefs"/> (admins).</summary>
    public ObservedSummary Summary(bool includeHostRefs, Transport only = Transport.Unspecified) =>
        ObservedAnswers.Summary(_port, _usage, _context, includeHostRefs, only);

    /// <summary>The verdict per transport that has something to say, against the registry as it stands now.</summary>
    public IReadOnlyList<(Transport Transport, VerdictResult Result, TransportUsage? Usage)> Verdicts(Func<Transport, RegistrySide> registry)
    {
        var verdicts = new List<(Transport, VerdictResult, TransportUsage?)>();
        foreach (var transport in PortHistory.Registry.Protobuf.RegistryProto.AllTransports)
        {
            var side = registry(transport);
            if (_localTables.For((int)_port, transport).FirstOrDefault(e => e.HasOpenFrequency) is { } nmap) side = side with { OpenFrequency = nmap.OpenFrequency };
            var observed = _transports[(int)transport];
            var known = new HashSet<string>(side.AssignedNames, StringComparer.OrdinalIgnoreCase);
            // Verdicts speak of what runs now: gone processes are left out, and a transport where all are gone counts as unobserved.
            var processes = observed is null
                ? []
                : observed.Processes.Values.Where(p => !p.Gone).Select(p => Side(p, known)).ToList();
            var hosts = observed is null || OldestLiveSeen(observed) is null ? 0 : observed.Hosts.Count;
            var result = VerdictRules.Decide((int)_port, side, processes, hosts, _context.ReportingHosts, _context.Options,
                _expectations.For((int)_port, transport));
            if (result is not null) verdicts.Add((transport, result, observed));
        }

        return verdicts;
    }

    /// <summary>A process as verdicts judge it, with the host groups it was reported in (a group's expectations speak for those).</summary>
    private ObservedProcessSide Side(ProcessUsage process, HashSet<string> known)
    {
        var identity = new ProcessIdentity(process.Name, process.Executable, process.Program, process.SystemdUnit);
        return new ObservedProcessSide(process.DisplayName, process.Executable, process.Hosts.Count, process.Sightings,
            _context.Processes.Match(identity, known.Contains), identity, process.HostGroups ?? []);
    }

    /// <summary>The verdicts as callers get them: every transport's, or one transport's.</summary>
    public IEnumerable<Verdict> ContractVerdicts(Func<Transport, RegistrySide> registry, Transport only = Transport.Unspecified) =>
        Verdicts(registry).Where(v => only == Transport.Unspecified || v.Transport == only).Select(v => ObservedAnswers.ToContract(v.Transport, v.Result));

    /// <summary>Index rows for the transports that were observed (unobserved ghosts come from the registry index).</summary>
    /// <remarks>
    /// Every observed transport has a row, also one with nothing to say (all its processes gone on an unassigned port),
    /// so that the row's earlier verdict does not stay listed.
    /// </remarks>
    public IReadOnlyList<ObservationIndexRow> IndexRows(Func<Transport, RegistrySide> registry)
    {
        var verdicts = Verdicts(registry).ToDictionary(v => v.Transport, v => v.Result);
        return [.. _usage.Transports.OrderBy(u => u.Transport).Select(u =>
        {
            var result = verdicts.GetValueOrDefault(u.Transport)
                         ?? new VerdictResult(0, $"nothing to judge: every process seen here is gone (last sighting {u.LastSeen:yyyy-MM-dd HH:mm}Z)", null, []);
            return new ObservationIndexRow(u.Transport, u.Hosts.Count, u.Sightings, u.FirstSeen, u.LastSeen, (VerdictKind)(int)result.Kind,
                result.Reason, result.AssignedService, [.. result.ObservedProcesses]) { OldestLiveSeen = OldestLiveSeen(u) };
        })];
    }

    /// <summary>
    /// What the ingest path guarantees, checked again: rows can reach the journal by other ways (an older server, a
    /// hand-made row, a caller inside the cluster), and one of them must not stop the port.
    /// </summary>
    private static string? Unusable(ObservationEntry entry) => entry switch
    {
        { Transport: Transport.Unspecified } => "transport is unspecified",
        _ when !System.Enum.IsDefined(entry.Transport) => $"unknown transport {(int)entry.Transport}",
        _ when !System.Enum.IsDefined(entry.Scope) => $"unknown bind scope {(int)entry.Scope}",
        { HostRef: null } or { Process: null } or { Executable: null } => "a text field is missing",
        _ when entry.HostRef.Length > 128 => $"host_ref is {entry.HostRef.Length} characters",
        _ when entry.Process.Length > 256 => $"process is {entry.Process.Length} characters",
        _ when entry.Executable.Length > 4096 => $"executable is {entry.Executable.Length} characters",
        _ when entry.Program?.Length > 128 => $"program is {entry.Program.Length} characters",
        _ when entry.SystemdUnit?.Length > 256 => $"systemd_unit is {entry.SystemdUnit.Length} characters",
        _ when entry.HostGroup?.Length > 64 => $"host_group is {entry.HostGroup.Length} characters",
        _ => null,
    };

    private void Quarantine(int writer, long seq, string reason)
    {
        _usage.Quarantined++;
        if (_usage.QuarantineReasons.Count < QuarantineReasonsKept) _usage.QuarantineReasons.Add($"writer {writer} seq {seq}: {reason}");
    }

    private void Add(ObservationEntry entry)
    {
        var transport = _transports[(int)entry.Transport];
        if (transport is null)
        {
            transport = new TransportUsage { Transport = entry.Transport, FirstSeen = entry.ObservedAt, LastSeen = entry.ObservedAt };
            _usage.Transports.Add(transport);
            _transports[(int)entry.Transport] = transport;
            VerdictInputsChanged = true;
        }

        transport.Hosts.Add(entry.HostHash, HostSetLimits.Transport);
        transport.Sightings++;
        if (entry.ObservedAt < transport.FirstSeen) transport.FirstSeen = entry.ObservedAt;
        if (entry.ObservedAt > transport.LastSeen) transport.LastSeen = entry.ObservedAt;

        // An entry from a silo that predates programs and units has null there.
        var (program, unit) = (entry.Program ?? "", entry.SystemdUnit ?? "");
        if (!_processes.TryGetValue((entry.Transport, entry.Process, entry.Executable, program, unit), out var process))
        {
            process = new ProcessUsage
            {
                Name = entry.Process, Executable = entry.Executable, Program = program, SystemdUnit = unit, FirstSeen = entry.ObservedAt,
                LastSeen = entry.ObservedAt,
            };
            if (transport.Processes.Count >= MaxProcessesPerTransport) process.Weight = Evict(transport);
            transport.Processes[Key(process)] = process;
            _processes[(entry.Transport, entry.Process, entry.Executable, program, unit)] = process;
        }

        // Back after it was gone: announced again, as a new life of the process (counted ones only, as the first time).
        if (process.Gone && entry.ObservedAt > process.LastSeen)
        {
            process.Gone = false;
            process.Returns++;
            VerdictInputsChanged = true;
            if (Counted(process)) _newlyCounted.Add((entry.Transport, process));
        }

        if (process.Hosts.Add(entry.HostHash, HostSetLimits.Process))
        {
            if (process.HostRefs.Count < ProcessUsage.HostRefsKept) process.HostRefs.Add(entry.HostRef);
            // Exact sets only: an estimate is not computed per sighting (the minimum is far below the exact limit).
            // A gone process reaching the minimum through late sightings is announced when it comes back, not now.
            if (!process.Gone && process.Hosts.IsExact && process.Hosts.Count == _context.Options.MinHostsPerProcess)
            {
                _newlyCounted.Add((entry.Transport, process));
                VerdictInputsChanged = true;
            }
        }

        // A group the process is seen in for the first time may bring it under a group's expectation.
        if (entry.HostGroup is { Length: > 0 } group && process.HostGroups?.Contains(group, StringComparer.OrdinalIgnoreCase) != true
            && (process.HostGroups?.Count ?? 0) < ProcessUsage.HostGroupsKept)
        {
            (process.HostGroups ??= []).Add(group);
            VerdictInputsChanged = true;
        }

        process.Sightings++;
        process.Weight++;
        Record(process, entry.ObservedAt, entry.Scope, entry.Privileged);
    }

    /// <summary>
    /// Space-Saving (Metwally et al.): the process of least weight makes room, its counts go to "other", and the newcomer
    /// starts from its weight. Returns that weight.
    /// </summary>
    private long Evict(TransportUsage transport)
    {
        var (key, least) = transport.Processes.MinBy(p => p.Value.Weight);
        transport.Processes.Remove(key);
        _processes.Remove((transport.Transport, least.Name, least.Executable, least.Program, least.SystemdUnit));
        transport.Other = Fold(transport.Other, least);
        transport.OtherProcesses++;
        return least.Weight;
    }

    /// <summary>Adds a process's counts into an "other" aggregate.</summary>
    internal static ProcessUsage Fold(ProcessUsage? other, ProcessUsage process)
    {
        other ??= new ProcessUsage { Name = OtherName, FirstSeen = process.FirstSeen, LastSeen = process.LastSeen, Gone = process.Gone };
        other.Gone &= process.Gone;
        other.Hosts.UnionWith(process.Hosts, HostSetLimits.Process);
        other.Sightings += process.Sightings;
        if (process.FirstSeen < other.FirstSeen) other.FirstSeen = process.FirstSeen;
        if (process.LastSeen > other.LastSeen) other.LastSeen = process.LastSeen;
        (other.Wildcard, other.Loopback, other.Specific) = (other.Wildcard + process.Wildcard, other.Loopback + process.Loopback, other.Specific + process.Specific);
        (other.Privileged, other.Unprivileged) = (other.Privileged + process.Privileged, other.Unprivileged + process.Unprivileged);
        return other;
    }

    private static void Record(ProcessUsage process, DateTime observedAt, BindScope scope, bool privileged)
    {
        if (observedAt < process.FirstSeen) process.FirstSeen = observedAt;
        if (observedAt > process.LastSeen) process.LastSeen = observedAt;
        switch (scope)
        {
            case BindScope.Wildcard: process.Wildcard++; break;
            case BindScope.Loopback: process.Loopback++; break;
            default: process.Specific++; break;
        }

        if (privileged) process.Privileged++;
        else process.Unprivileged++;
    }

    /// <summary>The stored key; a process without program and unit keeps the key states had before they were kept.</summary>
    private static string Key(ProcessUsage process) =>
        process.Program.Length == 0 && process.SystemdUnit.Length == 0
            ? process.Name + "\0" + process.Executable
            : process.Name + "\0" + process.Executable + "\0" + process.Program + "\0" + process.SystemdUnit;

    private static void MoveLegacyHosts(HashSet<ulong>? legacy, HostSet into, HostSetLimits limits)
    {
        if (legacy is null) return;
        foreach (var host in legacy) into.Add(host, limits);
    }
}

internal sealed class NoExpectations : IExpectationCatalog
{
    public static readonly NoExpectations Instance = new();

    public long Version => 0;

    public ExpectationSide For(int port, Transport transport) => ExpectationSide.None;

    public Task AtLeastAsync(long version, CancellationToken cancellationToken) => Task.CompletedTask;
}

internal sealed class NoLocalTables : ILocalServiceTables
{
    public static readonly NoLocalTables Instance = new();

    public IReadOnlyList<LocalServiceEntry> For(int port, Transport transport = Transport.Unspecified) => [];
}
