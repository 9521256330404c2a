using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using PortHistory.Contracts.V1;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;
using PortHistory.Registry.Protobuf;
using PortHistory.Server.Application.Registry;

namespace PortHistory.Server.Application.Import;

/// <summary>
/// What one history generation writes: each port's timelines for its grain (with a content hash, so that only
/// changed ports are restaged), and the rows of the query index. Ports in one range share one serialized state.
/// </summary>
public sealed class RegistryProjection
{
    private RegistryProjection()
    {
    }

    /// <summary>The hash of a port with no history at all (an empty StoredPortRegistry).</summary>
    public static byte[] EmptyHash { get; } = SHA256.HashData(new StoredPortRegistry().ToByteArray());

    /// <summary>StoredPortRegistry bytes per port number (instances shared by ports with equal timelines).</summary>
    public required byte[][] PortTimelines { get; init; }

    /// <summary>SHA-256 of <see cref="PortTimelines"/> per port.</summary>
    public required byte[][] PortHashes { get; init; }

    /// <summary>The rows of the query index.</summary>
    public required QueryIndexRows Index { get; init; }

    /// <summary>Edition ids in history order: the rank of an edition is its index here.</summary>
    public required IReadOnlyList<string> EditionOrder { get; init; }

    public static RegistryProjection Build(RegistryHistory history)
    {
        var ranks = history.Editions.Select((e, i) => (e.Id, i)).ToDictionary(x => x.Id, x => x.i, StringComparer.Ordinal);
        var stored = new Dictionary<object, PortTimeline>(ReferenceEqualityComparer.Instance);

        // Grain states: one message per distinct combination of the four transports' version lists.
        var byCombination = new Dictionary<(object?, object?, object?, object?), (byte[] Bytes, byte[] Hash)>();
        var timelines = new byte[PortSpan.MaxPort + 1][];
        var hashes = new byte[PortSpan.MaxPort + 1][];
        for (var port = 0; port <= PortSpan.MaxPort; port++)
        {
            var versions = TransportProtocols.All.Select(t => history.Timeline(port, t).Versions).ToArray();
            var key = (Identity(versions[0]), Identity(versions[1]), Identity(versions[2]), Identity(versions[3]));
            if (!byCombination.TryGetValue(key, out var entry))
            {
                var message = new StoredPortRegistry();
                for (var t = 0; t < versions.Length; t++)
                {
                    if (versions[t].IsEmpty) continue;
                    message.Timelines.Add(Stored(TransportProtocols.All[t], versions[t]));
                }

                var bytes = message.ToByteArray();
                byCombination[key] = entry = (bytes, SHA256.HashData(bytes));
            }

            timelines[port] = entry.Bytes;
            hashes[port] = entry.Hash;
        }

        var rows = new List<VersionRow>();
        foreach (var transport in TransportProtocols.All)
        {
            foreach (var segment in history.Segments(transport))
            {
                for (var v = 0; v < segment.Versions.Length; v++)
                {
                    var version = segment.Versions[v];
                    rows.Add(new VersionRow((short)transport, segment.Ports.First, segment.Ports.Last, v, ranks[version.From.Id],
                        ranks[version.Through.Id], (short)(version.Primary?.Status ?? 0), StateKey(version), version.ToProto().ToByteArray()));
                }
            }
        }

        var nameOnly = new List<NameOnlyRow>();
        foreach (var timeline in history.NameOnlyTimelines)
        {
            for (var v = 0; v < timeline.Versions.Length; v++)
            {
                var version = timeline.Versions[v];
                nameOnly.Add(new NameOnlyRow((short)timeline.Transport, timeline.Name.ToLowerInvariant(), v, ranks[version.From.Id],
                    ranks[version.Through.Id], StateKey(version), version.ToProto().ToByteArray()));
            }
        }

        var holdings = history.AllHoldings
            .GroupBy(h => h.Name.ToLowerInvariant())
            .SelectMany(g => g.Select((h, i) => new HoldingRow(g.Key, i, h.ToProto().ToByteArray())))
            .ToList();
        var renames = history.Renames
            .Select((l, i) => new RenameRow(i, l.From.ToLowerInvariant(), l.To.ToLowerInvariant(), l.ToProto().ToByteArray()))
            .ToList();

        return new RegistryProjection
        {
            PortTimelines = timelines,
            PortHashes = hashes,
            Index = new QueryIndexRows(rows, nameOnly, holdings, renames),
            EditionOrder = [.. history.Editions.Select(e => e.Id)],
        };

        PortTimeline Stored(TransportProtocol transport, ImmutableArray<RecordVersion> versions)
        {
            var identity = Identity(versions)!;
            if (stored.TryGetValue(identity, out var existing)) return existing;
            // Stored versions keep their first edition only: where they end depends on what is committed later.
            var message = new PortTimeline { Transport = transport.ToProto() };
            foreach (var version in versions)
            {
                var proto = version.ToProto();
                proto.Through = null;
                proto.EditionCount = 0;
                message.Versions.Add(proto);
            }

            stored[identity] = message;
            return message;
        }
    }

    /// <summary>A short hash of what a version says: two versions with the same key mean the same.</summary>
    public static byte[] StateKey(RecordVersion version) =>
        SHA256.HashData(Encoding.UTF8.GetBytes(RegistryHistory.StateKey(version.Records)))[..16];

    private static object? Identity(ImmutableArray<RecordVersion> versions) => ImmutableCollectionsMarshal.AsArray(versions);
}
