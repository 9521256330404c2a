using PortHistory.Contracts.V1;
using PortHistory.Registry.Model;

namespace PortHistory.Server.Application.Watch;

/// <summary>Which events a watcher (or the webhook) wants; an empty set means any. Built only from validated input.</summary>
public sealed record WatchFilter(
    IReadOnlyList<PortSpan> Ports,
    IReadOnlySet<Transport> Transports,
    IReadOnlySet<VerdictKind> Verdicts,
    IReadOnlySet<string> ProcessNames,
    IReadOnlySet<WatchEventKind> Kinds)
{
    /// <summary>
    /// Whether host events (stale, back, retired) may reach this watcher: they name hosts, which only admins (and the
    /// operator's webhook) may see. Without it they are left out whatever the other fields say.
    /// </summary>
    public bool HostEvents { get; init; } = true;

    public const int MaxRanges = 64;
    public const int MaxTransports = 4;
    public const int MaxVerdicts = 16;
    public const int MaxProcessNames = 64;
    public const int MaxProcessNameLength = 256;
    public const int MaxKinds = 16;

    public bool Matches(WatchEvent e) =>
        (HostEvents || !IsHostEvent(e.Kind))
        && (Ports.Count == 0 || Ports.Any(r => r.Contains((int)e.Port)))
        && (Transports.Count == 0 || Transports.Contains(e.Transport))
        && (Kinds.Count == 0 || Kinds.Contains(e.Kind))
        && (Verdicts.Count == 0 || Verdicts.Contains(e.NewVerdict) || Verdicts.Contains(e.OldVerdict))
        && (ProcessNames.Count == 0 || ProcessNames.Contains(e.ProcessName) || e.ObservedProcesses.Any(Named));

    public static bool IsHostEvent(WatchEventKind kind) => kind is WatchEventKind.HostStale or WatchEventKind.HostBack or WatchEventKind.HostRetired;

    /// <summary>Verdicts name a runtime's process with what it runs, "java (kafka.Kafka)": the name is the part before.</summary>
    private bool Named(string observed)
    {
        var paren = observed.IndexOf(" (", StringComparison.Ordinal);
        return ProcessNames.Contains(paren < 0 ? observed : observed[..paren]);
    }
}
