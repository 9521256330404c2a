using System.Collections.Immutable;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.History;

/// <summary>The segments of one transport and, per segment, its versions across the history's editions.</summary>
internal sealed class TransportHistory
{
    private readonly int[][] _versionStarts;

    private TransportHistory(PortSegments segments, ImmutableArray<RecordVersion>[] versions, int[][] versionStarts)
    {
        Segments = segments;
        Versions = versions;
        _versionStarts = versionStarts;
    }

    public PortSegments Segments { get; }

    /// <summary>Versions[segment], oldest first.</summary>
    public ImmutableArray<RecordVersion>[] Versions { get; }

    public ImmutableArray<RecordVersion> VersionsOf(int port) => Versions[Segments.SegmentOf(port)];

    /// <summary>The version in effect in an edition, or null when the segment was not listed yet.</summary>
    public RecordVersion? VersionAt(int segment, int editionIndex)
    {
        var starts = _versionStarts[segment];
        var found = -1;
        for (var v = 0; v < starts.Length && starts[v] <= editionIndex; v++) found = v;
        return found < 0 ? null : Versions[segment][found];
    }

    public static TransportHistory Build(TransportProtocol transport, IReadOnlyList<RegistryEdition> editions, EditionIdentity[] refs)
    {
        var segments = PortSegments.Build(transport, editions);
        var versions = new ImmutableArray<RecordVersion>[segments.Count];
        var starts = new int[segments.Count][];
        var keys = new ConsecutiveStateKeys(refs.Length);
        for (var s = 0; s < segments.Count; s++)
        {
            (versions[s], starts[s]) = TimelineBuilder.Build(segments.States[s], refs, keys);
        }

        return new TransportHistory(segments, versions, starts);
    }
}
