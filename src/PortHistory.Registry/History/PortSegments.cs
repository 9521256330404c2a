using PortHistory.Registry.Model;

namespace PortHistory.Registry.History;

/// <summary>
/// Cuts the port space of one transport into segments at every record boundary of a set of editions, so that
/// within a segment every edition says the same thing about every port. A range such as 49152-65535 or an
/// unassigned span is then one segment, not thousands of ports, whatever the number of editions.
/// </summary>
internal sealed class PortSegments
{
    private readonly int[] _segmentOfPort;

    private PortSegments(int[] starts, int[] segmentOfPort, EditionRecord[][][] states)
    {
        Starts = starts;
        _segmentOfPort = segmentOfPort;
        States = states;
    }

    /// <summary>First port of each segment; segment i ends where segment i+1 starts (the last ends at 65535).</summary>
    public int[] Starts { get; }

    /// <summary>States[segment][edition]: the normalised records the edition lists for the segment's ports.</summary>
    public EditionRecord[][][] States { get; }

    public int Count => Starts.Length;

    public int SegmentOf(int port) => _segmentOfPort[port];

    public PortSpan RangeOf(int segment) =>
        new(Starts[segment], segment + 1 < Starts.Length ? Starts[segment + 1] - 1 : PortSpan.MaxPort);

    /// <summary>Indexes of the segments that overlap a range, in port order.</summary>
    public IEnumerable<int> Overlapping(PortSpan range)
    {
        for (var s = SegmentOf(range.First); s < Count && Starts[s] <= range.Last; s++) yield return s;
    }

    public static PortSegments Build(TransportProtocol transport, IReadOnlyList<RegistryEdition> editions)
    {
        var boundary = new bool[PortSpan.MaxPort + 2];
        boundary[0] = true;
        foreach (var edition in editions)
        {
            foreach (var record in edition.Records)
            {
                if (record.Ports is not { } ports || !AppliesTo(edition, record, transport)) continue;
                boundary[ports.First] = true;
                boundary[ports.Last + 1] = true;
            }
        }

        var segmentOfPort = new int[PortSpan.MaxPort + 2];
        var starts = new List<int>();
        for (var port = 0; port <= PortSpan.MaxPort + 1; port++)
        {
            if (boundary[port] && port <= PortSpan.MaxPort) starts.Add(port);
            segmentOfPort[port] = port <= PortSpan.MaxPort ? starts.Count - 1 : starts.Count;
        }

        var count = starts.Count;
        var editionCount = editions.Count;
        // One slot per (segment, edition): a record, or a list when several records cover it.
        var slots = new object?[count * editionCount];
        for (var e = 0; e < editionCount; e++)
        {
            foreach (var record in editions[e].Records)
            {
                if (record.Ports is not { } ports || !AppliesTo(editions[e], record, transport)) continue;
                var end = segmentOfPort[ports.Last + 1];
                for (var s = segmentOfPort[ports.First]; s < end; s++)
                {
                    ref var slot = ref slots[s * editionCount + e];
                    slot = slot switch
                    {
                        null => record,
                        EditionRecord single => new List<EditionRecord> { single, record },
                        List<EditionRecord> list => Append(list, record),
                        _ => slot,
                    };
                }
            }
        }

        var singles = new Dictionary<EditionRecord, EditionRecord[]>(ReferenceEqualityComparer.Instance);
        var states = new EditionRecord[count][][];
        for (var s = 0; s < count; s++)
        {
            var row = new EditionRecord[editionCount][];
            for (var e = 0; e < editionCount; e++)
            {
                row[e] = slots[s * editionCount + e] switch
                {
                    null => PortStates.Empty,
                    EditionRecord single => singles.TryGetValue(single, out var shared) ? shared : singles[single] = [single],
                    List<EditionRecord> list => PortStates.Normalize(list),
                    _ => PortStates.Empty,
                };
            }

            states[s] = row;
        }

        return new PortSegments([.. starts], segmentOfPort, states);
    }

    /// <summary>
    /// Which transports a record speaks for. A record without a protocol stands for tcp and udp, except a
    /// nameless unassigned/reserved number in IANA XML/CSV, which holds for every transport.
    /// </summary>
    public static bool AppliesTo(RegistryEdition edition, EditionRecord record, TransportProtocol transport)
    {
        if (record.Transport != TransportProtocol.Unspecified) return record.Transport == transport;
        if (record.ServiceName is null && record.Status is not (RecordStatus.Assigned or RecordStatus.Conventional))
        {
            return edition.Format.UnspecifiedMeans().Contains(transport);
        }

        return transport is TransportProtocol.Tcp or TransportProtocol.Udp;
    }

    private static List<EditionRecord> Append(List<EditionRecord> list, EditionRecord record)
    {
        list.Add(record);
        return list;
    }
}
