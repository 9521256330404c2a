using System.Collections.Immutable;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.History;

/// <summary>
/// One stretch of editions during which a (port, transport) said the same thing. <see cref="Records"/> are as
/// listed in <see cref="From"/>, the first edition of the stretch; <see cref="Changes"/> say how it differs from the
/// version before. An empty <see cref="Records"/> means the port stopped being listed.
/// </summary>
public sealed record TimelineVersion(
    EditionRef From,
    EditionRef Through,
    int EditionCount,
    ImmutableArray<RegistryRecord> Records,
    ImmutableArray<Change> Changes)
{
    public RegistryRecord? Primary => Records.IsEmpty ? null : Records[0];
    public bool IsListed => !Records.IsEmpty;
}

/// <summary>Every version of one (port, transport), oldest first.</summary>
public sealed record PortTimeline(int Port, Transport Transport, ImmutableArray<TimelineVersion> Versions)
{
    public bool IsEmpty => Versions.IsEmpty;

    /// <summary>The version in effect in the edition with this order index, or null if the port was not yet listed.</summary>
    public TimelineVersion? Current => Versions.IsEmpty ? null : Versions[^1];
}

/// <summary>What an edition listed for one (port, transport): the answer to "what held this port on that date".</summary>
public sealed record PortSnapshot(
    int Port,
    Transport Transport,
    EditionRef Edition,
    ImmutableArray<RegistryRecord> Records,
    TimelineVersion? Version)
{
    public RegistryRecord? Primary => Records.IsEmpty ? null : Records[0];
}

/// <summary>A period in which a service name (or alias) held a port range on a transport; Ports is null for name-only registrations.</summary>
public sealed record ServiceHolding(
    string Name,
    PortRange? Ports,
    Transport Transport,
    AssignmentStatus Status,
    bool AsAlias,
    EditionRef From,
    EditionRef Through);

/// <summary>A name that replaced another on the same port and transport.</summary>
public sealed record RenameLink(string From, string To, PortRange Ports, Transport Transport, EditionRef Edition);

/// <summary>One row of a bulk listing: what held a port on a transport in the edition asked about.</summary>
public sealed record PortAssignment(int Port, Transport Transport, EditionRef Edition, ImmutableArray<RegistryRecord> Records, EditionRef Since)
{
    public RegistryRecord Primary => Records[0];
}

public enum DiffKind : byte
{
    Added = 1,
    Removed = 2,
    Changed = 3,
}

/// <summary>A difference between two editions for a port range (or a name-only registration) on one transport.</summary>
public sealed record DiffEntry(
    Transport Transport,
    PortRange? Ports,
    DiffKind Kind,
    ImmutableArray<RegistryRecord> Before,
    ImmutableArray<RegistryRecord> After,
    ImmutableArray<Change> Changes);

public sealed record EditionDiff(EditionRef From, EditionRef To, ImmutableArray<DiffEntry> Entries);

/// <summary>A run of ports of one transport that share every version (a single port, or a range).</summary>
public sealed record TimelineSegment(Transport Transport, PortRange Ports, ImmutableArray<TimelineVersion> Versions);

/// <summary>The versions of a registration that has no port (a service name only), on one transport.</summary>
public sealed record NameOnlyTimeline(string Name, Transport Transport, ImmutableArray<TimelineVersion> Versions);
