using PortHistory.Registry.Model;
using PortHistory.Registry.Protobuf;
using PortHistory.Contracts.V1;

namespace PortHistory.Cli.Sources;

/// <summary>What fleets observe on one port (server mode only), with the registry-versus-reality verdicts.</summary>
public sealed record ObservedAnswer(int Port, ulong ReportingHosts, IReadOnlyList<ObservedTransportView> Transports, IReadOnlyList<VerdictView> Verdicts);

public sealed record ObservedTransportView(
    TransportProtocol Transport,
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

public sealed record VerdictView(TransportProtocol Transport, string Verdict, string Reason, string? AssignedService, IReadOnlyList<string> ObservedProcesses);

public sealed record DiscrepancyView(int Port, VerdictView Verdict, ulong Hosts, ulong Sightings);

/// <summary>An access token as the admin API describes it; the secret only right after issuing.</summary>
/// <param name="HostRef">The one host a per-host credential reports for; null for every other token.</param>
public sealed record TokenView(string Id, string Name, string Role, DateTime? CreatedAt, DateTime? RevokedAt, string? Token = null, string? HostRef = null);

/// <summary>Contract messages to the CLI's views, and the words the CLI uses for verdicts and roles.</summary>
public static class ObservationViews
{
    private static readonly (VerdictKind Kind, string Text)[] VerdictNames =
    [
        (VerdictKind.Match, "match"),
        (VerdictKind.Squatter, "squatter"),
        (VerdictKind.Unregistered, "unregistered"),
        (VerdictKind.Ghost, "ghost"),
        (VerdictKind.Dynamic, "dynamic"),
        (VerdictKind.InsufficientEvidence, "insufficient-evidence"),
        (VerdictKind.Expected, "expected"),
        (VerdictKind.Unexpected, "unexpected"),
    ];

    private static readonly (Role Role, string Text)[] RoleNames = [(Role.Agent, "agent"), (Role.Reader, "reader"), (Role.Admin, "admin"), (Role.Enroll, "enroll")];

    public static IEnumerable<string> VerdictWords => VerdictNames.Select(v => v.Text);

    public static string ToText(this VerdictKind kind) => VerdictNames.FirstOrDefault(v => v.Kind == kind).Text ?? "unknown";

    public static VerdictKind ParseVerdict(string text) =>
        VerdictNames.FirstOrDefault(v => string.Equals(v.Text, text.Trim(), StringComparison.OrdinalIgnoreCase)) is { Text: not null } found
            ? found.Kind
            : throw new UsageException($"verdict must be one of {string.Join(", ", VerdictWords)}, got \"{text}\"");

    public static string ToText(this Role role) => RoleNames.FirstOrDefault(r => r.Role == role).Text ?? "unknown";

    public static Role ParseRole(string text) =>
        RoleNames.FirstOrDefault(r => string.Equals(r.Text, text.Trim(), StringComparison.OrdinalIgnoreCase)) is { Text: not null } found
            ? found.Role
            : throw new UsageException($"role must be agent, reader, admin or enroll, got \"{text}\"");

    public static ObservedAnswer ToView(int port, ObservedSummary? observed, IEnumerable<Verdict> verdicts) => new(
        port,
        observed?.ReportingHosts ?? 0,
        [.. (observed?.Transports ?? []).Select(ToView)],
        [.. verdicts.Select(ToView)]);

    public static VerdictView ToView(Verdict verdict) => new(
        verdict.Transport.ToDomain(),
        verdict.Kind.ToText(),
        verdict.Reason,
        verdict.AssignedService is { Length: > 0 } assigned ? assigned : null,
        [.. verdict.ObservedProcesses]);

    public static TokenView ToView(TokenInfo info, string? token = null) =>
        new(info.TokenId, info.Name, info.Role.ToText(), info.CreatedAt?.ToDateTime(), info.RevokedAt?.ToDateTime(), token,
            info.HostRef.Length > 0 ? info.HostRef : null);

    private static ObservedTransportView ToView(ObservedTransport transport) => new(
        transport.Transport.ToDomain(),
        transport.DistinctHosts,
        transport.Sightings,
        transport.FirstSeen?.ToDateTime(),
        transport.LastSeen?.ToDateTime(),
        [.. transport.Processes.Select(ToView)],
        transport.WithheldProcesses);

    private static ObservedProcessView ToView(ObservedProcess process) => new(
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
