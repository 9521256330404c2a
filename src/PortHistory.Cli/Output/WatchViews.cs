using System.Globalization;
using System.Text.Json;
using PortHistory.Cli.Sources;
using PortHistory.Registry.Protobuf;
using PortHistory.Contracts.V1;

namespace PortHistory.Cli.Output;

/// <summary>A watch event as the CLI prints it: one line of text, or one JSON object per line.</summary>
public sealed record WatchEventView(
    ulong Cursor,
    string EventId,
    string Kind,
    int Port,
    Registry.Model.TransportProtocol Transport,
    DateTime? RaisedAt,
    string? Process,
    string? Executable,
    string? Program,
    string? SystemdUnit,
    ulong? DistinctHosts,
    string? OldVerdict,
    string? NewVerdict,
    string? Reason,
    IReadOnlyList<string>? ObservedProcesses,
    string? OldService,
    string? NewService,
    ulong? Generation,
    DateTime? LastSeen = null,
    string? HostRef = null,
    string? HostGroup = null);

public static class WatchViews
{
    private static readonly (WatchEventKind Kind, string Text)[] KindNames =
    [
        (WatchEventKind.NewProcess, "new-process"),
        (WatchEventKind.VerdictChanged, "verdict-changed"),
        (WatchEventKind.GhostListener, "ghost-listener"),
        (WatchEventKind.AssignmentChanged, "assignment-changed"),
        (WatchEventKind.ProcessGone, "process-gone"),
        (WatchEventKind.HostStale, "host-stale"),
        (WatchEventKind.HostBack, "host-back"),
        (WatchEventKind.HostRetired, "host-retired"),
        (WatchEventKind.UsageFirstSeen, "usage-first-seen"),
        (WatchEventKind.UsageSpike, "usage-spike"),
    ];

    /// <summary>What `watch` asks for without --kind: every kind but the hosts' (a large fleet's laptops come and go all day).</summary>
    public static IEnumerable<WatchEventKind> DefaultKinds =>
        KindNames.Select(k => k.Kind).Where(k => k is not (WatchEventKind.HostStale or WatchEventKind.HostBack or WatchEventKind.HostRetired));

    public static IEnumerable<string> KindWords => KindNames.Select(k => k.Text);

    public static WatchEventKind ParseKind(string text) =>
        KindNames.FirstOrDefault(k => string.Equals(k.Text, text.Trim(), StringComparison.OrdinalIgnoreCase)) is { Text: not null } found
            ? found.Kind
            : throw new UsageException($"kind must be one of {string.Join(", ", KindWords)}, got \"{text}\"");

    public static string ToText(this WatchEventKind kind) => KindNames.FirstOrDefault(k => k.Kind == kind).Text ?? "unknown";

    public static WatchEventView ToView(WatchEvent e) => new(
        e.Cursor, e.EventId, e.Kind.ToText(), (int)e.Port, e.Transport.ToDomain(), e.RaisedAt?.ToDateTime(),
        Text(e.ProcessName), Text(e.Executable), Text(e.Program), Text(e.SystemdUnit), e.Kind is WatchEventKind.NewProcess or WatchEventKind.ProcessGone or WatchEventKind.UsageFirstSeen or WatchEventKind.UsageSpike ? e.DistinctHosts : null,
        e.OldVerdict == VerdictKind.Unspecified ? null : e.OldVerdict.ToText(),
        e.NewVerdict == VerdictKind.Unspecified ? null : e.NewVerdict.ToText(),
        Text(e.Reason), e.ObservedProcesses.Count > 0 ? [.. e.ObservedProcesses] : null,
        e.Kind == WatchEventKind.AssignmentChanged ? e.OldService : null,
        e.Kind == WatchEventKind.AssignmentChanged ? e.NewService : null,
        e.Kind == WatchEventKind.AssignmentChanged ? e.Generation : null,
        e.LastSeen?.ToDateTime(), Text(e.HostRef), Text(e.HostGroup));

    public static void Write(TextWriter output, WatchEvent e, bool json)
    {
        var view = ToView(e);
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(view, Json.CompactOptions));
            return;
        }

        var where = e.Kind is WatchEventKind.HostStale or WatchEventKind.HostBack or WatchEventKind.HostRetired
            ? view.HostGroup ?? "-"
            : $"{view.Port}/{view.Transport.ToString().ToLowerInvariant()}";
        var what = e.Kind switch
        {
            WatchEventKind.NewProcess => $"{view.Process} ({view.Executable}) on {view.DistinctHosts} hosts" + (view.NewVerdict is { } v ? $"; verdict {v}" : ""),
            WatchEventKind.VerdictChanged => $"{view.OldVerdict ?? "none"} -> {view.NewVerdict}: {view.Reason}",
            WatchEventKind.GhostListener => $"first listener on a ghost, now {view.NewVerdict}: {view.Reason}",
            WatchEventKind.ProcessGone => $"{view.Process} ({view.Executable}) gone: the last online host running it stopped it; last seen "
                + $"{view.LastSeen?.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}" + (view.NewVerdict is { } now ? $"; verdict {now}" : ""),
            WatchEventKind.AssignmentChanged => $"assigned {Service(view.OldService)} -> {Service(view.NewService)} (generation {view.Generation})",
            WatchEventKind.HostStale or WatchEventKind.HostBack or WatchEventKind.HostRetired => $"host {view.HostRef}: {view.Reason}",
            _ => view.Reason ?? "",
        };
        var at = view.RaisedAt?.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) ?? "";
        output.WriteLine($"{view.Cursor} {at} {view.Kind} {where} {what}");
    }

    private static string Service(string? name) => name is { Length: > 0 } ? name : "(none)";

    private static string? Text(string value) => value.Length > 0 ? value : null;
}
