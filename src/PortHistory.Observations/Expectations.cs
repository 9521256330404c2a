namespace PortHistory.Observations;

/// <summary>
/// An operator's expectation for one (port, transport): what should run there, for every host or for one host group.
/// </summary>
/// <param name="Label">How verdicts name the port and transport: "776/udp".</param>
/// <param name="Process">A process name, a runtime's program, a systemd unit or a service name the process provides.</param>
/// <param name="HostGroup">Null: every host.</param>
public sealed record ExpectationRule(string Label, string Process, string? HostGroup, string SetBy, DateTime SetAt, string? Note = null)
{
    /// <summary>Whether the rule speaks for a process seen on hosts of these groups (a group-less rule speaks for every host).</summary>
    public bool AppliesTo(IReadOnlyCollection<string> hostGroups) =>
        HostGroup is null || hostGroups.Contains(HostGroup, StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether the observed process is what the rule names: by its name, program or unit, or a service it provides.</summary>
    public bool Covers(ObservedProcessSide process)
    {
        var identity = process.Identity;
        return Same(identity?.Name ?? process.Process)
               || Same(identity?.Program)
               || Same(identity?.SystemdUnit)
               || (identity?.SystemdUnit is { } unit && unit.EndsWith(".service", StringComparison.OrdinalIgnoreCase) && Same(unit[..^".service".Length]))
               || process.Match.Services.Any(Same);
    }

    /// <summary>"776/udp rpc.statd (rule set by ops on 2026-11-29: NFS lock manager)".</summary>
    public string Describe() =>
        $"{Label} {Process}{(HostGroup is null ? "" : $" in group {HostGroup}")} (rule set by {SetBy} on {SetAt:yyyy-MM-dd}{(Note is { Length: > 0 } ? $": {Note}" : "")})";

    private bool Same(string? name) => name is { Length: > 0 } && string.Equals(name, Process, StringComparison.OrdinalIgnoreCase);
}

/// <summary>The expectations for one (port, transport), and whether the fleet declares any at all.</summary>
/// <param name="FleetHasExpectations">
/// Once operators declare expectations, a listener that neither an expectation nor the registry covers is unexpected;
/// before, it is only unregistered.
/// </param>
public sealed record ExpectationSide(IReadOnlyList<ExpectationRule> Rules, bool FleetHasExpectations)
{
    public static ExpectationSide None { get; } = new([], false);
}
