using PortHistory.Registry.Model;
using PortHistory.Registry.Protobuf;
using V1 = PortHistory.Contracts.V1;

namespace PortHistory.Cli.Sources;

/// <summary>What fleets observe on one port (server mode only), with the registry-versus-reality verdicts.</summary>
public sealed record ObservedAnswer(int Port, ulong ReportingHosts, IReadOnlyList<ObservedTransportView> Transports, IReadOnlyList<VerdictView> Verdicts);

public sealed record ObservedTransportView(
    Transport Transport,
    ulong DistinctHosts,
    ulong Sightings,
    DateTime? FirstSeen,
    DateTime? LastSeen,
    IReadOnlyList<ObservedProcessView> Processes,
    uint WithheldProcesses);

public sealed record ObservedProcessView(
    string Process,
    string Executable,
    string? MappedService,
    ulong DistinctHosts,
    ulong Sightings,
    DateTime? FirstSeen,
    DateTime? LastSeen,
    ulong Wildcard,
    ulong Loopback,
    ulong Specific,
    ulong Privileged,
    ulong Unprivileged,
    IReadOnlyList<string>? HostRefs,
    bool Gone = false);

public sealed record VerdictView(Transport Transport, string Verdict, string Reason, string? AssignedService, IReadOnlyList<string> ObservedProcesses);

public sealed record DiscrepancyView(int Port, VerdictView Verdict, ulong Hosts, ulong Sightings);

/// <summary>An access token as the admin API describes it; the secret only right after issuing.</summary>
/// <param name="HostRef">The one host a per-host credential reports for; null for every other token.</param>
public sealed record TokenView(string Id, string Name, string Role, DateTime? CreatedAt, DateTime? RevokedAt, string? Token = null, string? HostRef = null);

/// <summary>Contract messages to the CLI's views, and the words the CLI uses for verdicts and roles.</summary>
public static class ObservationViews
{
    private static readonly (V1.VerdictKind Kind, string Text)[] VerdictNames =
    [
        (V1.VerdictKind.Match, "match"),
        (V1.VerdictKind.Squatter, "squatter"),
        (V1.VerdictKind.Unregistered, "unregistered"),
        (V1.VerdictKind.Ghost, "ghost"),
        (V1.VerdictKind.Dynamic, "dynamic"),
        (V1.VerdictKind.InsufficientEvidence, "insufficient-evidence"),
        (V1.VerdictKind.Expected, "expected"),
        (V1.VerdictKind.Unexpected, "unexpected"),
    ];

    private static readonly (V1.Role Role, string Text)[] RoleNames = [(V1.Role.Agent, "agent"), (V1.Role.Reader, "reader"), (V1.Role.Admin, "admin"), (V1.Role.Enroll, "enroll")];

    public static IEnumerable<string> VerdictWords => VerdictNames.Select(v => v.Text);

    public static string ToText(this V1.VerdictKind kind) => VerdictNames.FirstOrDefault(v => v.Kind == kind).Text ?? "unknown";

    public static V1.VerdictKind ParseVerdict(string text) =>
        VerdictNames.FirstOrDefault(v => string.Equals(v.Text, text.Trim(), StringComparison.OrdinalIgnoreCase)) is { Text: not null } found
            ? found.Kind
            : throw new UsageException($"verdict must be one of {string.Join(", ", VerdictWords)}, got \"{text}\"");

    public static string ToText(this V1.Role role) => RoleNames.FirstOrDefault(r => r.Role == role).Text ?? "unknown";

    public static V1.Role ParseRole(string text) =>
        RoleNames.FirstOrDefault(r => string.Equals(r.Text, text.Trim(), StringComparison.OrdinalIgnoreCase)) is { Text: not null } found
            ? found.Role
            : throw new UsageException($"role must be agent, reader, admin or enroll, got \"{text}\"");

    public static ObservedAnswer ToView(int port, V1.ObservedSummary? observed, IEnumerable<V1.Verdict> verdicts) => new(
        port,
        observed?.ReportingHosts ?? 0,
        [.. (observed?.Transports ?? []).Select(ToView)],
        [.. verdicts.Select(ToView)]);

    public static VerdictView ToView(V1.Verdict verdict) => new(
        verdict.Transport.ToDomain(),
        verdict.Kind.ToText(),
        verdict.Reason,
        verdict.AssignedService is { Length: > 0 } assigned ? assigned : null,
        [.. verdict.ObservedProcesses]);

    public static TokenView ToView(V1.TokenInfo info, string? token = null) =>
        new(info.TokenId, info.Name, info.Role.ToText(), info.CreatedAt?.ToDateTime(), info.RevokedAt?.ToDateTime(), token,
            info.HostRef.Length > 0 ? info.HostRef : null);

    private static ObservedTransportView ToView(V1.ObservedTransport transport) => new(
        transport.Transport.ToDomain(),
        transport.DistinctHosts,
        transport.Sightings,
        transport.FirstSeen?.ToDateTime(),
        transport.LastSeen?.ToDateTime(),
        [.. transport.Processes.Select(ToView)],
        transport.WithheldProcesses);

    private static ObservedProcessView ToView(V1.ObservedProcess process) => new(
        process.ProcessName,
        process.Executable,
        process.MappedService is { Length: > 0 } mapped ? mapped : null,
        process.DistinctHosts,
        process.Sightings,
        process.FirstSeen?.ToDateTime(),
        process.LastSeen?.ToDateTime(),
        process.WildcardSightings,
        process.LoopbackSightings,
        process.SpecificSightings,
        process.PrivilegedSightings,
        process.UnprivilegedSightings,
        process.HostRefs.Count > 0 ? [.. process.HostRefs] : null,
        process.Gone);
}
