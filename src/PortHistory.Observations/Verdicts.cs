using System.ComponentModel.DataAnnotations;

namespace PortHistory.Observations;

public enum VerdictKind
{
    Match = 1,
    Squatter = 2,
    Unregistered = 3,
    Ghost = 4,
    Dynamic = 5,
    InsufficientEvidence = 6,
}

/// <summary>Thresholds for calling a verdict.</summary>
public sealed record VerdictOptions
{
    /// <summary>A process counts as running on a port once this many distinct hosts report it (also the privacy floor).</summary>
    [Range(1, int.MaxValue)]
    public int MinHostsPerProcess { get; init; } = 3;

    /// <summary>"Never observed" means something only once this many hosts report anything at all.</summary>
    [Range(1, int.MaxValue)]
    public int MinReportingHosts { get; init; } = 10;

    public const int FirstDynamicPort = 49152;
}

/// <summary>What the registry says about one (port, transport) now: the assigned service's names, or none.</summary>
public sealed record RegistrySide(string? AssignedService, IReadOnlyList<string> AssignedNames, string? Since, string StatusText);

/// <summary>One process seen on the (port, transport): how many distinct hosts run it, and what it provides.</summary>
public sealed record ObservedProcessSide(string Process, string? Executable, long Hosts, long Sightings, ServiceMatch Match);

public sealed record VerdictResult(VerdictKind Kind, string Reason, string? AssignedService, IReadOnlyList<string> ObservedProcesses);

/// <summary>The verdict for one (port, transport), from what is assigned and what fleets observe, with a reason in plain words.</summary>
public static class VerdictRules
{
    /// <summary>Processes a verdict names at most.</summary>
    public const int NamedProcesses = 3;

    /// <returns>The verdict, or null when there is nothing to say (not assigned, not observed).</returns>
    public static VerdictResult? Decide(int port, RegistrySide registry, IReadOnlyList<ObservedProcessSide> observed, long hostsOnPort,
        long reportingHosts, VerdictOptions options)
    {
        var visible = observed.Where(p => p.Hosts >= options.MinHostsPerProcess).OrderByDescending(p => p.Hosts).ThenBy(p => p.Process, StringComparer.Ordinal).ToList();
        // A reason names a few processes, however many there are: reasons and index rows stay small.
        var names = visible.Take(NamedProcesses).Select(p => p.Process).ToList();
        var seen = string.Join(", ", visible.Take(NamedProcesses).Select(Describe))
                   + (visible.Count > NamedProcesses ? $" and {visible.Count - NamedProcesses} more process(es)" : "");

        if (port >= VerdictOptions.FirstDynamicPort)
        {
            if (hostsOnPort == 0) return null;
            return new VerdictResult(VerdictKind.Dynamic, visible.Count == 0
                ? $"{port} is in the dynamic/private range (49152-65535): used by anyone, assigned to no one; seen on {hostsOnPort} host(s)"
                : $"{port} is in the dynamic/private range (49152-65535): used by anyone, assigned to no one; observed {seen}",
                registry.AssignedService, names);
        }

        var assigned = registry.AssignedService is not null;
        if (visible.Count == 0)
        {
            if (hostsOnPort > 0)
            {
                return new VerdictResult(VerdictKind.InsufficientEvidence,
                    $"observed on {hostsOnPort} host(s), but no process on {options.MinHostsPerProcess} or more", registry.AssignedService, []);
            }

            if (!assigned) return null;
            return reportingHosts >= options.MinReportingHosts
                ? new VerdictResult(VerdictKind.Ghost,
                    $"assigned to {registry.AssignedService}{Since(registry)}, but none of the {reportingHosts} reporting hosts runs anything on it",
                    registry.AssignedService, [])
                : new VerdictResult(VerdictKind.InsufficientEvidence,
                    $"assigned to {registry.AssignedService}{Since(registry)}; only {reportingHosts} host(s) report, {options.MinReportingHosts} are needed to call it unused",
                    registry.AssignedService, []);
        }

        if (!assigned)
        {
            return new VerdictResult(VerdictKind.Unregistered, $"nothing is assigned ({registry.StatusText}); observed {seen}", null, names);
        }

        var dominant = visible[0];
        if (dominant.Match.Provides(registry.AssignedNames))
        {
            return new VerdictResult(VerdictKind.Match, $"assigned to {registry.AssignedService}{Since(registry)}; observed {seen}", registry.AssignedService, names);
        }

        return new VerdictResult(VerdictKind.Squatter,
            $"assigned to {registry.AssignedService}{Since(registry)}, but observed {seen}", registry.AssignedService, names);
    }

    private static string Since(RegistrySide registry) => registry.Since is null ? "" : $" (since {registry.Since})";

    private static string Describe(ObservedProcessSide process)
    {
        var provides = process.Match switch
        {
            { Source: MatchSource.Table, Services.Count: 0, Reason: { } reason } => $"; {reason}",
            { Services.Count: > 0 } match => $"; provides {string.Join("/", match.Services.Take(3))}",
            _ => "",
        };
        return $"{process.Process} on {process.Hosts} host(s){provides}";
    }
}
