using System.Collections.Immutable;

namespace PortHistory.Registry.Model;

/// <summary>
/// One entry of an edition, as faithful to the source as the format allows. Records without a port are
/// service-name-only registrations (IANA XML/CSV); records with a range cover every port in it.
/// </summary>
public sealed record EditionRecord
{
    public string? ServiceName { get; init; }
    public ImmutableArray<string> Aliases { get; init; } = [];
    public PortSpan? Ports { get; init; }
    public TransportProtocol Transport { get; init; }
    public RecordStatus Status { get; init; }
    public string Description { get; init; } = "";
    public ImmutableArray<RegistryPerson> Assignees { get; init; } = [];
    public ImmutableArray<RegistryPerson> Contacts { get; init; } = [];
    public ImmutableArray<string> References { get; init; } = [];

    /// <summary>Registration date as the source gives it: "2006-06", "2009-07-01" (ISO, month or day precision).</summary>
    public string? Registered { get; init; }

    /// <summary>Last modification date as the source gives it (ISO, month or day precision).</summary>
    public string? Modified { get; init; }

    public ImmutableArray<string> Notes { get; init; } = [];
    public ImmutableArray<string> UnauthorizedUses { get; init; } = [];
    public DeassignmentNote? Deassignment { get; init; }

    /// <summary>The older name this one was assigned to replace ("… a replacement for \"acmaint_dbd\"").</summary>
    public string? Replaces { get; init; }

    /// <summary>Set on alias entries: the service this name is an alias of ("This entry is an alias to …").</summary>
    public string? AliasOf { get; init; }

    public string? ServiceCode { get; init; }

    /// <summary>nmap-services only: the fraction of scanned hosts where the port was found open.</summary>
    public double? OpenFrequency { get; init; }

    /// <summary>The section of the source the record came from ("WELL KNOWN PORT NUMBERS", "UNIX PORTS", …).</summary>
    public string? Section { get; init; }

    /// <summary>1-based line of the record in its source file (first line for multi-line records).</summary>
    public int Line { get; init; }

    public bool Names(string name) =>
        string.Equals(ServiceName, name, StringComparison.OrdinalIgnoreCase) ||
        Aliases.Any(alias => string.Equals(alias, name, StringComparison.OrdinalIgnoreCase));

    public override string ToString() =>
        $"{ServiceName ?? "-"} {Ports?.ToString() ?? "(no port)"}/{Transport.ToText()} {Status.ToText()} \"{Description}\"";
}
