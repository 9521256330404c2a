using System.Globalization;
using System.Text.Json;
using PortHistory.Cli.Sources;
using PortHistory.Registry.Protobuf;
using V1 = PortHistory.Contracts.V1;

namespace PortHistory.Cli.Output;

/// <summary>A watch event as the CLI prints it: one line of text, or one JSON object per line.</summary>
public sealed record WatchEventView(
    ulong Cursor,
    string EventId,
    string Kind,
    int Port,
    Registry.Model.Transport Transport,
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
    DateTime? LastSeen = null);

public static class WatchViews
{
    private static readonly (V1.WatchEventKind Kind, string Text)[] KindNames =
    [
        (V1.WatchEventKind.NewProcess, "new-process"),
        (V1.WatchEventKind.VerdictChanged, "verdict-changed"),
        (V1.WatchEventKind.GhostListener, "ghost-listener"),
        (V1.WatchEventKind.AssignmentChanged, "assignment-changed"),
        (V1.WatchEventKind.ProcessGone, "process-gone"),
    ];

    public static IEnumerable<string> KindWords => KindNames.Select(k => k.Text);

    public static V1.WatchEventKind ParseKind(string text) =>
        KindNames.FirstOrDefault(k => string.Equals(k.Text, text.Trim(), StringComparison.OrdinalIgnoreCase)) is { Text: not null } found
            ? found.Kind
            : throw new UsageException($"kind must be one of {string.Join(", ", KindWords)}, got \"{text}\"");

    public static string ToText(this V1.WatchEventKind kind) => KindNames.FirstOrDefault(k => k.Kind == kind).Text ?? "unknown";

    public static WatchEventView ToView(V1.WatchEvent e) => new(
        e.Cursor, e.EventId, e.Kind.ToText(), (int)e.Port, e.Transport.ToDomain(), e.RaisedAt?.ToDateTime(),
        Text(e.ProcessName), Text(e.Executable), Text(e.Program), Text(e.SystemdUnit), e.Kind is V1.WatchEventKind.NewProcess or V1.WatchEventKind.ProcessGone ? e.DistinctHosts : null,
        e.OldVerdict == V1.VerdictKind.Unspecified ? null : e.OldVerdict.ToText(),
        e.NewVerdict == V1.VerdictKind.Unspecified ? null : e.NewVerdict.ToText(),
        Text(e.Reason), e.ObservedProcesses.Count > 0 ? [.. e.ObservedProcesses] : null,
        e.Kind == V1.WatchEventKind.AssignmentChanged ? e.OldService : null,
        e.Kind == V1.WatchEventKind.AssignmentChanged ? e.NewService : null,
        e.Kind == V1.WatchEventKind.AssignmentChanged ? e.Generation : null,
        e.LastSeen?.ToDateTime());

    public static void Write(TextWriter output, V1.WatchEvent e, bool json)
    {
        var view = ToView(e);
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(view, Json.CompactOptions));
            return;
        }

        var where = $"{view.Port}/{view.Transport.ToString().ToLowerInvariant()}";
        var what = e.Kind switch
        {
            V1.WatchEventKind.NewProcess => $"{view.Process} ({view.Executable}) on {view.DistinctHosts} hosts" + (view.NewVerdict is { } v ? $"; verdict {v}" : ""),
            V1.WatchEventKind.VerdictChanged => $"{view.OldVerdict ?? "none"} -> {view.NewVerdict}: {view.Reason}",
            V1.WatchEventKind.GhostListener => $"first listener on a ghost, now {view.NewVerdict}: {view.Reason}",
            V1.WatchEventKind.ProcessGone => $"{view.Process} ({view.Executable}) gone: no host has reported it since "
                + $"{view.LastSeen?.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}" + (view.NewVerdict is { } now ? $"; verdict {now}" : ""),
            V1.WatchEventKind.AssignmentChanged => $"assigned {Service(view.OldService)} -> {Service(view.NewService)} (generation {view.Generation})",
            _ => view.Reason ?? "",
        };
        var at = view.RaisedAt?.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) ?? "";
        output.WriteLine($"{view.Cursor} {at} {view.Kind} {where} {what}");
    }

    private static string Service(string? name) => name is { Length: > 0 } ? name : "(none)";

    private static string? Text(string value) => value.Length > 0 ? value : null;
}
