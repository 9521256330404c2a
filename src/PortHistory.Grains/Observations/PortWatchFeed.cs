using System.Security.Cryptography;
using System.Text;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Observations;

namespace PortHistory.Grains.Observations;

/// <summary>
/// Decides a port's watch events from its observations and the registry, and holds them until they are stored.
/// Every event gets a key that depends only on what the stored state and the journal say (port, transport, process
/// identity and life, verdict revision, registry generation), so a grain that replays its journal after a crash raises the
/// same keys again and the event log stores them once. The grain stores pending events before every state write:
/// a state that no longer shows a change as new is never stored while the change's event is not.
/// </summary>
internal sealed class PortWatchFeed(uint port, IObservationContext context)
{
    private readonly List<WatchEvent> _pending = [];

    public IReadOnlyList<WatchEvent> Pending => _pending;

    public bool HasPending => _pending.Count > 0;

    public void Stored(int count) => _pending.RemoveRange(0, Math.Min(count, _pending.Count));

    /// <summary>
    /// Looks at what changed: processes newly counted, and, when <paramref name="judge"/> (every checkpoint, after an
    /// import, or when a verdict input changed), each observed transport's verdict and each transport's assignment.
    /// Returns whether it raised anything.
    /// </summary>
    public bool Detect(PortObservations observations, Func<Transport, RegistrySide> registry, long generation, bool judge)
    {
        var before = _pending.Count;
        var counted = observations.TakeNewlyCounted();
        var gone = observations.TakeNewlyGone();
        if (!judge && counted.Count == 0 && gone.Count == 0) return false;

        var usage = observations.Usage;
        var verdicts = observations.Verdicts(registry).ToDictionary(v => v.Transport);
        foreach (var (transport, process) in counted)
        {
            // A process back after it was gone is a new life of it: the first life keeps the key events had before returns.
            var e = ProcessEvent(WatchEventKind.NewProcess, "process", transport, process, process.Returns > 0 ? $":{process.Returns}" : "");
            if (verdicts.TryGetValue(transport, out var verdict)) Describe(e, verdict.Result);
            _pending.Add(e);
        }

        foreach (var (transport, process) in gone)
        {
            var e = ProcessEvent(WatchEventKind.ProcessGone, "gone", transport, process, $":{process.Returns}");
            e.LastSeen = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(process.LastSeen);
            if (verdicts.TryGetValue(transport, out var verdict)) Describe(e, verdict.Result);
            _pending.Add(e);
        }

        // States from before the feed: what they hold is where the feed starts, not a change.
        var seeding = usage.RaisedVerdicts is null && usage.Transports.Count > 0;
        usage.RaisedVerdicts ??= [];
        foreach (var (transport, (_, result, observed)) in verdicts)
        {
            if (observed is null) continue;
            var kind = (VerdictKind)(int)result.Kind;
            var firstLook = false;
            if (!usage.RaisedVerdicts.TryGetValue(transport, out var raised))
            {
                firstLook = true;
                usage.RaisedVerdicts[transport] = raised = new RaisedVerdict { Kind = kind };
                if (seeding) continue;
                // First observed: the verdict it had with nothing seen (ghost, or too few hosts to say, or none).
                var unobserved = VerdictRules.Decide((int)port, registry(transport), [], 0, context.Fleet.Reporting, context.Options);
                var old = unobserved is null ? VerdictKind.Unspecified : (VerdictKind)(int)unobserved.Kind;
                if (old == VerdictKind.Ghost)
                {
                    var listener = Event(WatchEventKind.GhostListener, transport, $"ghost-listener:{port}:{(int)transport}");
                    Describe(listener, result);
                    listener.OldVerdict = old;
                    _pending.Add(listener);
                }

                if (old == kind) continue;
                raised.Kind = old;
            }

            if (raised.Kind == kind) continue;
            raised.Revision++;
            // Every process gone made it a ghost again; whatever listens there now is a first listener too.
            if (raised.Kind == VerdictKind.Ghost && !firstLook)
            {
                var listener = Event(WatchEventKind.GhostListener, transport, $"ghost-listener:{port}:{(int)transport}:{raised.Revision}");
                Describe(listener, result);
                listener.OldVerdict = raised.Kind;
                _pending.Add(listener);
            }

            var changed = Event(WatchEventKind.VerdictChanged, transport, $"verdict:{port}:{(int)transport}:{raised.Revision}:{(int)kind}");
            Describe(changed, result);
            changed.OldVerdict = raised.Kind;
            _pending.Add(changed);
            raised.Kind = kind;
        }

        if (judge && usage.Transports.Count > 0) DetectAssignments(usage, registry, generation);
        return _pending.Count > before;
    }

    /// <summary>An import that changes what is assigned on an observed port: one event per transport and generation.</summary>
    private void DetectAssignments(ObservedUsage usage, Func<Transport, RegistrySide> registry, long generation)
    {
        var seeding = usage.Assignments is null;
        usage.Assignments ??= [];
        foreach (var transport in PortHistory.Registry.Protobuf.RegistryProto.AllTransports)
        {
            var assigned = registry(transport).AssignedService ?? "";
            var known = usage.Assignments.GetValueOrDefault(transport, "");
            if (assigned == known) continue;
            usage.Assignments[transport] = assigned;
            if (seeding) continue;
            var e = Event(WatchEventKind.AssignmentChanged, transport, $"assignment:{port}:{(int)transport}:{generation}");
            (e.OldService, e.NewService, e.Generation) = (known, assigned, (ulong)generation);
            _pending.Add(e);
        }
    }

    private WatchEvent ProcessEvent(WatchEventKind kind, string prefix, Transport transport, ProcessUsage process, string life)
    {
        var e = Event(kind, transport, $"{prefix}:{port}:{(int)transport}:{Digest(process.Name, process.Executable, process.Program, process.SystemdUnit)}{life}");
        (e.ProcessName, e.Executable, e.Program, e.SystemdUnit) = (process.Name, process.Executable, process.Program, process.SystemdUnit);
        // Gone, it listens nowhere: the event says how widely it ran.
        e.DistinctHosts = (ulong)(kind == WatchEventKind.ProcessGone ? process.KnownHosts : process.Listeners.Current);
        return e;
    }

    private WatchEvent Event(WatchEventKind kind, Transport transport, string key) =>
        new() { EventId = key, Kind = kind, Port = port, Transport = transport };

    private static void Describe(WatchEvent e, VerdictResult result)
    {
        e.NewVerdict = (VerdictKind)(int)result.Kind;
        e.Reason = result.Reason;
        e.ObservedProcesses.AddRange(result.ObservedProcesses);
    }

    /// <summary>A process's identity in a key of bounded length (an executable may be 4 KB).</summary>
    private static string Digest(params string[] parts) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\0', parts))))[..32];
}
