using System.Collections.Immutable;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.History;

/// <summary>The segments of one transport and, per segment, its versions across the history's editions.</summary>
internal sealed class TransportHistory
{
    private readonly int[][] _versionStarts;

    private TransportHistory(PortSegments segments, ImmutableArray<TimelineVersion>[] versions, int[][] versionStarts)
    {
        Segments = segments;
        Versions = versions;
        _versionStarts = versionStarts;
    }

    public PortSegments Segments { get; }

    /// <summary>Versions[segment], oldest first.</summary>
    public ImmutableArray<TimelineVersion>[] Versions { get; }

    public ImmutableArray<TimelineVersion> VersionsOf(int port) => Versions[Segments.SegmentOf(port)];

    /// <summary>The version in effect in an edition, or null when the segment was not listed yet.</summary>
    public TimelineVersion? VersionAt(int segment, int editionIndex)
    {
        var starts = _versionStarts[segment];
        var found = -1;
        for (var v = 0; v < starts.Length && starts[v] <= editionIndex; v++) found = v;
        return found < 0 ? null : Versions[segment][found];
    }

    public static TransportHistory Build(Transport transport, IReadOnlyList<RegistryEdition> editions, EditionRef[] refs)
    {
        var segments = PortSegments.Build(transport, editions);
        var versions = new ImmutableArray<TimelineVersion>[segments.Count];
        var starts = new int[segments.Count][];
        var keys = new Dictionary<RegistryRecord[], string>(ReferenceEqualityComparer.Instance);
        var noStarts = Array.Empty<int>();
        for (var s = 0; s < segments.Count; s++)
        {
            var states = segments.States[s];
            var list = ImmutableArray.CreateBuilder<TimelineVersion>();
            var versionStarts = new List<int>();
            string? openKey = null;
            var from = -1;
            for (var e = 0; e <= states.Length; e++)
            {
                string? key = null;
                if (e < states.Length)
                {
                    key = KeyOf(states[e]);
                    if (from >= 0 && key == openKey) continue;
                    // Before its first listing a port has no version, not an empty one.
                    if (from < 0 && states[e].Length == 0) continue;
                }

                if (from >= 0)
                {
                    // Close the open version: it held from edition `from` through e - 1.
                    var previous = list.Count == 0 ? PortStates.Empty : list[^1].Records.ToArray();
                    list.Add(new TimelineVersion(refs[from], refs[e - 1], e - from, [.. states[from]], PortStates.Compare(previous, states[from])));
                    versionStarts.Add(from);
                }

                if (e == states.Length) break;
                from = e;
                openKey = key;
            }

            versions[s] = list.ToImmutable();
            starts[s] = versionStarts.Count == 0 ? noStarts : [.. versionStarts];
        }

        return new TransportHistory(segments, versions, starts);

        string KeyOf(RegistryRecord[] state)
        {
            if (state.Length == 0) return "";
            if (!keys.TryGetValue(state, out var key)) keys[state] = key = PortStates.Key(state);
            return key;
        }
    }
}
