using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Observations;

namespace PortHistory.Grains.Observations;

/// <summary>
/// Observed usage of one port: applying journal entries exactly once (per-writer watermarks), the summaries callers
/// see (privacy floor for non-admins, host ids for admins only), and the verdicts against the registry. Two kinds of
/// entry count: listener changes host grains pass on (which hosts listen now: verdicts, new and gone processes), and
/// the sightings of full reports (history: how often and how each process was seen). An entry that cannot be applied
/// is quarantined (skipped and counted); per transport at most <see cref="ProcessTable.MaxProcessesPerTransport"/>
/// processes are kept.
/// </summary>
internal sealed class PortObservations
{
    public const int MaxProcessesPerTransport = ProcessTable.MaxProcessesPerTransport;

    /// <summary>Encoded bytes of one transport's listed processes in an answer (four transports stay well under 64 KB).</summary>
    public const int AnswerBytesPerTransport = 12 * 1024;

    internal const string OtherName = ProcessTable.OtherName;

    private const int QuarantineReasonsKept = 5;

    private readonly uint _port;
    private readonly ObservedUsage _usage;
    private readonly IObservationContext _context;
    private readonly IExpectationCatalog _expectations;
    private readonly ILocalServiceTables _localTables;
    private readonly ProcessTable _table;

    private readonly List<(Transport Transport, ProcessUsage Process)> _newlyCounted = [];
    private readonly List<(Transport Transport, ProcessUsage Process)> _newlyGone = [];

    /// <param name="expectations">Null: none (verdicts by the registry alone).</param>
    /// <param name="localTables">Null: none.</param>
    public PortObservations(uint port, ObservedUsage usage, IObservationContext context, IExpectationCatalog? expectations = null,
        ILocalServiceTables? localTables = null)
    {
        (_port, _usage, _context) = (port, usage, context);
        (_expectations, _localTables) = (expectations ?? NoExpectations.Instance, localTables ?? NoLocalTables.Instance);
        _table = new ProcessTable(usage);
    }

    /// <summary>
    /// Whether anything a verdict depends on changed in what was applied since the last <see cref="TakeNewlyCounted"/>
    /// (a process started or stopped listening, crossed the verdicts' minimum of hosts, a transport was first seen).
    /// </summary>
    public bool VerdictInputsChanged { get; private set; }

    /// <summary>Processes that reached the verdicts' minimum of hosts listening (again, after they were gone), since the last call.</summary>
    public IReadOnlyList<(Transport Transport, ProcessUsage Process)> TakeNewlyCounted()
    {
        VerdictInputsChanged = false;
        return Take(_newlyCounted);
    }

    /// <summary>Announced processes the last online host stopped listening with, since the last call.</summary>
    public IReadOnlyList<(Transport Transport, ProcessUsage Process)> TakeNewlyGone() => Take(_newlyGone);

    private static IReadOnlyList<(Transport, ProcessUsage)> Take(List<(Transport, ProcessUsage)> list)
    {
        if (list.Count == 0) return [];
        IReadOnlyList<(Transport, ProcessUsage)> taken = [.. list];
        list.Clear();
        return taken;
    }

    public ObservedUsage Usage => _usage;

    public long Watermark(int writer) => _usage.Watermarks.GetValueOrDefault(writer);

    public bool HasObservations => _usage.Transports.Count > 0;

    /// <summary>Applies the entries (in sequence order) past this writer's watermark; returns how many were new.</summary>
    public int Apply(int writer, IReadOnlyList<ObservationEntry> entries)
    {
        var watermark = Watermark(writer);
        var applied = 0;
        foreach (var entry in entries)
        {
            if (entry.Seq <= watermark) continue;
            // A bad entry must not stop the port: it is counted and passed over, and the watermark moves past it.
            if (ObservationEntryCheck.Unusable(entry) is { } reason) Quarantine(writer, entry.Seq, reason);
            else if (entry.Change == ListenerChangeKind.None) SightingCounts.Add(_table, entry, ref _verdictInputsSeen);
            else ApplyListeners(entry);
            watermark = entry.Seq;
            applied++;
        }

        if (_verdictInputsSeen) VerdictInputsChanged = true;
        _verdictInputsSeen = false;
        if (applied > 0) _usage.Watermarks[writer] = watermark;
        return applied;
    }

    private bool _verdictInputsSeen;

    /// <summary>Hosts changed how they listen: the counts move, and processes come, reach the minimum, or go.</summary>
    private void ApplyListeners(ObservationEntry entry)
    {
        var transport = _table.GetOrAddTransport(entry.Transport, entry.ObservedAt, out var created);
        if (entry.ObservedAt > transport.LastSeen) transport.LastSeen = entry.ObservedAt;
        if (entry.ObservedAt < transport.FirstSeen) transport.FirstSeen = entry.ObservedAt;
        if (entry.Presence)
        {
            var was = transport.Listeners.Current;
            transport.Listeners.Apply(entry.Change, entry.Reachable, entry.Hosts);
            if (created || (was == 0) != (transport.Listeners.Current == 0)) _verdictInputsSeen = true;
            return;
        }

        var added = entry.Change == ListenerChangeKind.Added;
        var (program, unit) = (entry.Program ?? "", entry.SystemdUnit ?? "");
        // A change for a process no longer listed lands on "other", where its earlier counts went.
        var process = added
            ? _table.GetOrAdd(transport, entry.Process, entry.Executable, program, unit, entry.ObservedAt)
            : _table.Find(entry.Transport, entry.Process, entry.Executable, program, unit);
        if (process is null)
        {
            (transport.Other ??= new ProcessUsage { Name = OtherName, FirstSeen = entry.ObservedAt, LastSeen = entry.ObservedAt })
                .Listeners.Apply(entry.Change, entry.Reachable, entry.Hosts);
            return;
        }

        var floor = _context.Options.MinHostsPerProcess;
        var before = process.Listeners.Current;
        process.Listeners.Apply(entry.Change, entry.Reachable, entry.Hosts);
        var after = process.Listeners.Current;
        if (added)
        {
            process.Weight += entry.Hosts;
            // One of the hosts the change adds up, for the admins' sample of hosts running it.
            if (entry.HostRef.Length > 0 && process.HostRefs.Count < ProcessUsage.HostRefsKept && !process.HostRefs.Contains(entry.HostRef))
                process.HostRefs.Add(entry.HostRef);
            if (ProcessTable.NoteGroup(process, entry.HostGroup)) _verdictInputsSeen = true;
        }
        process.PeakHosts = Math.Max(process.PeakHosts, after);
        if (entry.ObservedAt < process.FirstSeen) process.FirstSeen = entry.ObservedAt;
        if (entry.ObservedAt > process.LastSeen) process.LastSeen = entry.ObservedAt;
        if ((before == 0) != (after == 0) || (before >= floor) != (after >= floor)) _verdictInputsSeen = true;

        // Back after it was gone: a new life, announced again once it counts.
        if (after > 0 && process.Gone)
        {
            process.Gone = false;
            process.Returns++;
            process.Announced = false;
        }

        if (after >= floor && !process.Announced)
        {
            process.Announced = true;
            _newlyCounted.Add((entry.Transport, process));
        }

        // Gone means an online host stopped it last; a retired host's sockets leaving says nothing of the process (and
        // when it listens again, that is the same life going on).
        if (after == 0 && before > 0 && entry.Change == ListenerChangeKind.Removed)
        {
            process.Gone = true;
            if (process.Announced) _newlyGone.Add((entry.Transport, process));
        }
    }

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
            var observed = _table.Find(transport);
            var known = new HashSet<string>(side.AssignedNames, StringComparer.OrdinalIgnoreCase);
            // Verdicts speak of what listens now: hosts online, and stale ones (silent for a while, their sockets kept).
            var processes = observed is null ? [] : observed.Processes.Values.Where(p => p.Listeners.Current > 0).Select(p => Side(p, known)).ToList();
            var result = VerdictRules.Decide((int)_port, side, processes, observed?.Listeners.Current ?? 0, _context.Fleet.Reporting, _context.Options,
                _expectations.For((int)_port, transport));
            if (result is not null) verdicts.Add((transport, result, observed));
        }

        return verdicts;
    }

    /// <summary>A process as verdicts judge it, with the host groups it was reported in (a group's expectations speak for those).</summary>
    private ObservedProcessSide Side(ProcessUsage process, HashSet<string> known)
    {
        var identity = new ProcessIdentity(process.Name, process.Executable, process.Program, process.SystemdUnit);
        return new ObservedProcessSide(process.DisplayName, process.Executable, process.Listeners.Current, process.Sightings,
            _context.Processes.Match(identity, known.Contains), identity, process.HostGroups ?? []) { StaleHosts = process.Listeners.Stale };
    }

    /// <summary>The verdicts as callers get them: every transport's, or one transport's.</summary>
    public IEnumerable<Verdict> ContractVerdicts(Func<Transport, RegistrySide> registry, Transport only = Transport.Unspecified) =>
        Verdicts(registry).Where(v => only == Transport.Unspecified || v.Transport == only).Select(v => ObservedAnswers.ToContract(v.Transport, v.Result));

    /// <summary>
    /// Index rows for the transports that were observed (unobserved ghosts come from the registry index). Every
    /// observed transport has a row, also one with nothing to say (nothing listens there any more on an unassigned
    /// port), so that the row's earlier verdict does not stay listed.
    /// </summary>
    public IReadOnlyList<ObservationIndexRow> IndexRows(Func<Transport, RegistrySide> registry)
    {
        var verdicts = Verdicts(registry).ToDictionary(v => v.Transport, v => v.Result);
        return [.. _usage.Transports.OrderBy(u => u.Transport).Select(u =>
        {
            var result = verdicts.GetValueOrDefault(u.Transport)
                         ?? new VerdictResult(0, $"nothing to judge: nothing listens here now (last change {u.LastSeen:yyyy-MM-dd HH:mm}Z)", null, []);
            return new ObservationIndexRow(u.Transport, u.Listeners.Current, u.Sightings, u.FirstSeen, u.LastSeen, (VerdictKind)(int)result.Kind,
                result.Reason, result.AssignedService, [.. result.ObservedProcesses]);
        })];
    }

    private void Quarantine(int writer, long seq, string reason)
    {
        _usage.Quarantined++;
        if (_usage.QuarantineReasons.Count < QuarantineReasonsKept) _usage.QuarantineReasons.Add($"writer {writer} seq {seq}: {reason}");
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
