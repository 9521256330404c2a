using System.Collections.Immutable;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.History;

/// <summary>
/// One stretch of editions during which a (port, transport) said the same thing. <see cref="Records"/> are as
/// listed in <see cref="From"/>, the first edition of the stretch; <see cref="Changes"/> say how it differs from the
/// version before. An empty <see cref="Records"/> means the port stopped being listed.
/// </summary>
public sealed record RecordVersion(
    EditionIdentity From,
    EditionIdentity Through,
    int EditionCount,
    ImmutableArray<EditionRecord> Records,
    ImmutableArray<RecordChange> Changes)
{
    private readonly EditionIdentity? _heldSince;

    public EditionRecord? Primary => Records.IsEmpty ? null : Records[0];
    public bool IsListed => !Records.IsEmpty;

    /// <summary>
    /// The first edition of the unbroken run of versions that hold the port as this one does (see <see cref="UnbrokenHolding"/>):
    /// what "assigned to wpages since RFC 1340" names, where <see cref="From"/> is only when the record last changed.
    /// <see cref="From"/> when not known (a version read from somewhere that did not keep it).
    /// </summary>
    public EditionIdentity HeldSince { get => _heldSince ?? From; init => _heldSince = value; }

    /// <summary>
    /// For an assignment that took over the same service's conventional use (RFC 1060's UNIX PORTS) with no edition
    /// between: the first edition of that conventional use. Null otherwise.
    /// </summary>
    public EditionIdentity? ConventionalSince { get; init; }
}

/// <summary>Every version of one (port, transport), oldest first.</summary>
public sealed record AssignmentTimeline(int Port, TransportProtocol Transport, ImmutableArray<RecordVersion> Versions)
{
    public bool IsEmpty => Versions.IsEmpty;

    /// <summary>The version in effect in the edition with this order index, or null if the port was not yet listed.</summary>
    public RecordVersion? Current => Versions.IsEmpty ? null : Versions[^1];
}

/// <summary>What an edition listed for one (port, transport): the answer to "what held this port on that date".</summary>
public sealed record PortSnapshot(
    int Port,
    TransportProtocol Transport,
    EditionIdentity Edition,
    ImmutableArray<EditionRecord> Records,
    RecordVersion? Version)
{
    public EditionRecord? Primary => Records.IsEmpty ? null : Records[0];
}

/// <summary>A period in which a service name (or alias) held a port range on a transport; Ports is null for name-only registrations.</summary>
public sealed record ServiceTenure(
    string Name,
    PortSpan? Ports,
    TransportProtocol Transport,
    RecordStatus Status,
    bool AsAlias,
    EditionIdentity From,
    EditionIdentity Through);

/// <summary>A name that replaced another on the same port and transport.</summary>
public sealed record ServiceRename(string From, string To, PortSpan Ports, TransportProtocol Transport, EditionIdentity Edition);

/// <summary>One row of a bulk listing: what held a port on a transport in the edition asked about.</summary>
public sealed record AssignmentInEffect(int Port, TransportProtocol Transport, EditionIdentity Edition, ImmutableArray<EditionRecord> Records, EditionIdentity Since)
{
    public EditionRecord Primary => Records[0];
}

public enum EditionDiffKind : byte
{
    Added = 1,
    Removed = 2,
    Changed = 3,
}

/// <summary>A difference between two editions for a port range (or a name-only registration) on one transport.</summary>
public sealed record EditionDiffEntry(
    TransportProtocol Transport,
    PortSpan? Ports,
    EditionDiffKind Kind,
    ImmutableArray<EditionRecord> Before,
    ImmutableArray<EditionRecord> After,
    ImmutableArray<RecordChange> Changes);

public sealed record EditionDiff(EditionIdentity From, EditionIdentity To, ImmutableArray<EditionDiffEntry> Entries);

/// <summary>A run of ports of one transport that share every version (a single port, or a range).</summary>
public sealed record TimelineSegment(TransportProtocol Transport, PortSpan Ports, ImmutableArray<RecordVersion> Versions);

/// <summary>The versions of a registration that has no port (a service name only), on one transport.</summary>
public sealed record NameOnlyTimeline(string Name, TransportProtocol Transport, ImmutableArray<RecordVersion> Versions);
