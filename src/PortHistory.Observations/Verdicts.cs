using System.ComponentModel.DataAnnotations;

namespace PortHistory.Observations;

public enum VerdictOutcome
{
    Match = 1,
    Squatter = 2,
    Unregistered = 3,
    Ghost = 4,
    Dynamic = 5,
    InsufficientEvidence = 6,
    Expected = 7,
    Unexpected = 8,
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
/// <param name="Since">The edition the assignment has held since without a break, cited ("rfc1340, 1992-07").</param>
public sealed record RegistrySide(string? AssignedService, IReadOnlyList<string> AssignedNames, string? Since, string StatusText)
{
    /// <summary>nmap-services' open frequency for the (port, transport), when an imported table gives one: how rarely scans find it open.</summary>
    public double? OpenFrequency { get; init; }

    /// <summary>Where the service's conventional use began, when the assignment took it over directly ("rfc1060, 1990-03").</summary>
    public string? ConventionalSince { get; init; }

    /// <summary>When and how the record changed after the assignment began ("2004-01-08: contact added"); null if it has not.</summary>
    public string? LastChange { get; init; }
}

/// <summary>One process seen on the (port, transport): how many distinct hosts run it, and what it provides.</summary>
/// <param name="Identity">What expectations are matched against (name, program, unit); null: <paramref name="Process"/> is the name.</param>
/// <param name="HostGroups">The host groups the process was seen in; empty when agents report none.</param>
public sealed record ObservedProcessSide(string Process, string? Executable, long Hosts, long Sightings, ServiceMatch Match,
    ProcessIdentity? Identity = null, IReadOnlyCollection<string>? HostGroups = null)
{
    /// <summary>Of <see cref="Hosts"/>, those silent for a while (their sockets kept): still counted, and said.</summary>
    public long StaleHosts { get; init; }
}

public sealed record VerdictResult(VerdictOutcome Kind, string Reason, string? AssignedService, IReadOnlyList<string> ObservedProcesses);

/// <summary>The verdict for one (port, transport), from what is assigned and what fleets observe, with a reason in plain words.</summary>
public static class VerdictRules
{
    /// <summary>Processes a verdict names at most.</summary>
    public const int NamedProcesses = 3;

    /// <returns>The verdict, or null when there is nothing to say (not assigned, not observed).</returns>
    public static VerdictResult? Decide(int port, RegistrySide registry, IReadOnlyList<ObservedProcessSide> observed, long hostsOnPort,
        long reportingHosts, VerdictOptions options, ExpectationSide? expectations = null)
    {
        expectations ??= ExpectationSide.None;
        var visible = observed.Where(p => p.Hosts >= options.MinHostsPerProcess).OrderByDescending(p => p.Hosts).ThenBy(p => p.Process, StringComparer.Ordinal).ToList();
        // A reason names a few processes, however many there are: reasons and index rows stay small.
        var names = visible.Take(NamedProcesses).Select(p => p.Process).ToList();
        var seen = string.Join(", ", visible.Take(NamedProcesses).Select(Describe))
                   + (visible.Count > NamedProcesses ? $" and {visible.Count - NamedProcesses} more process(es)" : "");

        // An operator's word on what runs here goes before the registry's, in every range.
        if (visible.Count > 0 && expectations.Rules.Count > 0 && ByExpectation(visible, expectations.Rules, registry, seen) is { } judged) return judged;

        if (port >= VerdictOptions.FirstDynamicPort)
        {
            if (hostsOnPort == 0) return null;
            return new VerdictResult(VerdictOutcome.Dynamic, visible.Count == 0
                ? $"{port} is in the dynamic/private range (49152-65535): used by anyone, assigned to no one; seen on {hostsOnPort} host(s)"
                : $"{port} is in the dynamic/private range (49152-65535): used by anyone, assigned to no one; observed {seen}",
                registry.AssignedService, names);
        }

        var assigned = registry.AssignedService is not null;
        if (visible.Count == 0)
        {
            if (hostsOnPort > 0)
            {
                return new VerdictResult(VerdictOutcome.InsufficientEvidence,
                    $"observed on {hostsOnPort} host(s), but no process on {options.MinHostsPerProcess} or more", registry.AssignedService, []);
            }

            if (!assigned) return null;
            return reportingHosts >= options.MinReportingHosts
                ? new VerdictResult(VerdictOutcome.Ghost,
                    $"{Assignment(registry)}, but none of the {reportingHosts} reporting hosts runs anything on it{RarelyOpen(registry)}",
                    registry.AssignedService, [])
                : new VerdictResult(VerdictOutcome.InsufficientEvidence,
                    $"{Assignment(registry)}; only {reportingHosts} host(s) report, {options.MinReportingHosts} are needed to call it unused",
                    registry.AssignedService, []);
        }

        if (!assigned)
        {
            return expectations.FleetHasExpectations
                ? new VerdictResult(VerdictOutcome.Unexpected, $"unexpected: nothing is assigned ({registry.StatusText}) and no expectation covers the port; observed {seen}", null, names)
                : new VerdictResult(VerdictOutcome.Unregistered, $"nothing is assigned ({registry.StatusText}); observed {seen}", null, names);
        }

        var dominant = visible[0];
        if (dominant.Match.Provides(registry.AssignedNames))
        {
            return new VerdictResult(VerdictOutcome.Match, $"{Assignment(registry)}; observed {seen}", registry.AssignedService, names);
        }

        return new VerdictResult(VerdictOutcome.Squatter,
            $"{Assignment(registry)}, but observed {seen}{RarelyOpen(registry)}", registry.AssignedService, names);
    }

    /// <summary>
    /// Unexpected when a rule speaks for a process and none names it; expected when every observed process is one the
    /// rules speaking for it name. Null otherwise (some process no rule speaks for: rules for other host groups only):
    /// the registry's rules judge the port, so a covered process never hides an uncovered one.
    /// </summary>
    private static VerdictResult? ByExpectation(List<ObservedProcessSide> visible, IReadOnlyList<ExpectationRule> rules, RegistrySide registry, string seen)
    {
        var judged = visible.Select(p => (Process: p, Rules: rules.Where(r => r.AppliesTo(p.HostGroups ?? [])).ToList()))
            .Where(j => j.Rules.Count > 0).ToList();
        if (judged.Count == 0) return null;

        var strangers = judged.Where(j => !j.Rules.Any(r => r.Covers(j.Process))).ToList();
        if (strangers.Count > 0)
        {
            var wanted = strangers.SelectMany(j => j.Rules).Distinct().Take(NamedProcesses).Select(r => r.Describe());
            return new VerdictResult(VerdictOutcome.Unexpected,
                $"unexpected: observed {string.Join(", ", strangers.Take(NamedProcesses).Select(j => Describe(j.Process)))}, but expected: {string.Join("; ", wanted)}",
                registry.AssignedService, [.. strangers.Take(NamedProcesses).Select(j => j.Process.Process)]);
        }

        if (judged.Count < visible.Count) return null;

        var matched = judged.SelectMany(j => j.Rules.Where(r => r.Covers(j.Process))).Distinct().Take(NamedProcesses).Select(r => r.Describe());
        var registrySays = registry.AssignedService is null ? $"nothing is assigned ({registry.StatusText})" : $"the registry says {registry.AssignedService}";
        return new VerdictResult(VerdictOutcome.Expected, $"expected: {string.Join("; ", matched)}; observed {seen}; {registrySays}",
            registry.AssignedService, [.. visible.Take(NamedProcesses).Select(p => p.Process)]);
    }

    /// <summary>
    /// "assigned to wpages (since rfc1340, 1992-07; conventional use since rfc1060, 1990-03; record last changed 2004-01-08:
    /// contact added)": how every reason names an assignment.
    /// </summary>
    public static string Assignment(RegistrySide registry) => $"assigned to {registry.AssignedService}{Since(registry)}";

    private static string Since(RegistrySide registry)
    {
        var said = new List<string>(3);
        if (registry.Since is { } since) said.Add($"since {since}");
        if (registry.ConventionalSince is { } conventional) said.Add($"conventional use since {conventional}");
        if (registry.LastChange is { } change) said.Add($"record last changed {change}");
        return said.Count == 0 ? "" : $" ({string.Join("; ", said)})";
    }

    /// <summary>nmap's open frequency as evidence of how rarely the port is used, for ghosts and squatters.</summary>
    private static string RarelyOpen(RegistrySide registry) =>
        registry.OpenFrequency is { } frequency
            ? $"; nmap-services open frequency {frequency.ToString("0.######", System.Globalization.CultureInfo.InvariantCulture)} (the fraction of scanned hosts where it is open)"
            : "";

    private static string Describe(ObservedProcessSide process)
    {
        var provides = process.Match switch
        {
            { Source: MatchSource.Table, Services.Count: 0, Reason: { } reason } => $"; {reason}",
            { Services.Count: > 0 } match => $"; provides {string.Join("/", match.Services.Take(3))}",
            _ => "",
        };
        var stale = process.StaleHosts > 0 ? $" ({process.StaleHosts} stale)" : "";
        return $"{process.Process} on {process.Hosts} host(s){stale}{provides}";
    }
}
