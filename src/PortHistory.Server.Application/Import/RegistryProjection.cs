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
/// Built from the previous generation's projection, what did not change is not serialized again: versions and the
/// version lists of unchanged segments are the same instances in the next ledger.
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

    /// <summary>Per edition in history order, how many entries it changed.</summary>
    public required IReadOnlyList<int> ChangeCounts { get; init; }

    /// <summary>What the next projection may reuse.</summary>
    private Reuse Reusable { get; init; } = null!;

    /// <summary>The projection of a full build (tests and tools: the server appends to a ledger instead).</summary>
    public static RegistryProjection Build(RegistryHistory history) =>
        Build(history.Editions.Aggregate(HistoryLedger.Empty, (ledger, edition) => ledger.Append(edition)));

    public static RegistryProjection Build(HistoryLedger ledger, RegistryProjection? previous = null)
    {
        var reuse = new Reuse(previous?.Reusable, ledger);
        var timelines = new byte[PortSpan.MaxPort + 1][];
        var hashes = new byte[PortSpan.MaxPort + 1][];
        var cursors = new int[TransportProtocols.All.Count];
        var segments = TransportProtocols.All.Select(ledger.Segments).ToArray();
        for (var port = 0; port <= PortSpan.MaxPort; port++)
        {
            var key = new object?[4];
            for (var t = 0; t < segments.Length; t++)
            {
                while (segments[t][cursors[t]].Last < port) cursors[t]++;
                key[t] = Identity(segments[t][cursors[t]].Versions);
            }

            var combination = (key[0], key[1], key[2], key[3]);
            if (!reuse.Ports.TryGetValue(combination, out var entry))
            {
                entry = reuse.PreviousPorts is { } kept && kept.TryGetValue(combination, out var earlier) ? earlier : Serialize(segments, cursors, reuse);
                reuse.Ports[combination] = entry;
            }

            timelines[port] = entry.Bytes;
            hashes[port] = entry.Hash;
        }

        var rows = new List<VersionRow>();
        foreach (var transport in TransportProtocols.All)
        {
            foreach (var segment in ledger.Segments(transport))
            {
                for (var v = 0; v < segment.Versions.Length; v++)
                {
                    var version = segment.Versions[v];
                    var (bytes, stateKey) = reuse.Version(segment.Versions, v);
                    rows.Add(new VersionRow((short)transport, segment.First, segment.Last, v, ledger.RankOf(version.From), Through(ledger, segment.Versions, v),
                        (short)(version.Primary?.Status ?? 0), stateKey, bytes));
                }
            }
        }

        var nameOnly = new List<NameOnlyRow>();
        foreach (var timeline in ledger.NameOnly)
        {
            for (var v = 0; v < timeline.Versions.Length; v++)
            {
                var version = timeline.Versions[v];
                var (bytes, stateKey) = reuse.Version(timeline.Versions, v);
                nameOnly.Add(new NameOnlyRow((short)timeline.Transport, timeline.NameLower, v, ledger.RankOf(version.From), Through(ledger, timeline.Versions, v),
                    stateKey, bytes));
            }
        }

        var newest = ledger.Newest;
        var holdings = LedgerIndexes.Holdings(ledger)
            .SelectMany(g => g.Value.Select((h, i) => new HoldingRow(g.Key, i, reuse.Holding(h, h.Through == newest), h.Through == newest)))
            .ToList();
        var renames = LedgerIndexes.Renames(ledger)
            .Select((l, i) => new RenameRow(i, l.From.ToLowerInvariant(), l.To.ToLowerInvariant(), l.ToProto().ToByteArray()))
            .ToList();

        return new RegistryProjection
        {
            PortTimelines = timelines,
            PortHashes = hashes,
            Index = new QueryIndexRows(rows, nameOnly, holdings, renames),
            EditionOrder = [.. ledger.Editions.Select(e => e.Id)],
            ChangeCounts = ledger.ChangeCounts(),
            Reusable = reuse.Done(),
        };
    }

    /// <summary>A short hash of what a version says: two versions with the same key mean the same.</summary>
    public static byte[] StateKey(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key))[..16];

    private static int Through(HistoryLedger ledger, ImmutableArray<LedgerVersion> versions, int index) =>
        index + 1 < versions.Length ? ledger.RankOf(versions[index + 1].From) - 1 : QueryIndexRows.OpenThrough;

    private static (byte[] Bytes, byte[] Hash) Serialize(ImmutableArray<LedgerSegment>[] segments, int[] cursors, Reuse reuse)
    {
        var message = new StoredPortRegistry();
        for (var t = 0; t < segments.Length; t++)
        {
            var versions = segments[t][cursors[t]].Versions;
            if (versions.IsEmpty) continue;
            var timeline = new PortTimeline { Transport = TransportProtocols.All[t].ToProto() };
            for (var v = 0; v < versions.Length; v++) timeline.Versions.Add(reuse.Message(versions, v));
            message.Timelines.Add(timeline);
        }

        var bytes = message.ToByteArray();
        return (bytes, SHA256.HashData(bytes));
    }

    private static object Identity(ImmutableArray<LedgerVersion> versions) => ImmutableCollectionsMarshal.AsArray(versions)!;

    /// <summary>
    /// Serialized versions by instance and port states by the combination of version lists they show, carried from
    /// one generation to the next; what the new ledger no longer holds is left behind.
    /// </summary>
    private sealed class Reuse(Reuse? previous, HistoryLedger ledger)
    {
        // Since when each version's holding runs, per version list (by instance), worked out for the lists whose versions are serialized anew.
        private readonly Dictionary<object, ImmutableArray<RecordVersion>> _shown = new(ReferenceEqualityComparer.Instance);

        private readonly Dictionary<LedgerVersion, (TimelineVersion Message, byte[] Bytes, byte[] StateKey)> _versions = new(ReferenceEqualityComparer.Instance);
        private Dictionary<LedgerVersion, (TimelineVersion Message, byte[] Bytes, byte[] StateKey)>? _previousVersions = previous?._versions;

        public Dictionary<(object?, object?, object?, object?), (byte[] Bytes, byte[] Hash)> Ports { get; } = new();

        public Dictionary<(object?, object?, object?, object?), (byte[] Bytes, byte[] Hash)>? PreviousPorts { get; private set; } = previous?.Ports;

        // Serialized holdings: an open one is stored without its end, so it stays the same bytes while it runs on.
        private readonly Dictionary<(ServiceTenure, bool Open), byte[]> _holdings = new();
        private Dictionary<(ServiceTenure, bool Open), byte[]>? _previousHoldings = previous?._holdings;

        /// <summary>Built: what the previous generation held and this one does not is let go.</summary>
        public Reuse Done()
        {
            _previousVersions = null;
            PreviousPorts = null;
            _previousHoldings = null;
            return this;
        }

        public byte[] Holding(ServiceTenure holding, bool open)
        {
            var key = (open ? holding with { Through = holding.From } : holding, open);
            if (_holdings.TryGetValue(key, out var bytes)) return bytes;
            if (_previousHoldings is null || !_previousHoldings.TryGetValue(key, out bytes))
            {
                var message = holding.ToProto();
                if (open) message.Through = null;
                bytes = message.ToByteArray();
            }

            _holdings[key] = bytes;
            return bytes;
        }

        /// <summary>
        /// A version as stored: its first edition and since when its holding runs (both known once it is appended), not
        /// where it ends, which depends on what is committed later.
        /// </summary>
        public TimelineVersion Message(ImmutableArray<LedgerVersion> versions, int index) => Entry(versions, index).Message;

        public (byte[] Bytes, byte[] StateKey) Version(ImmutableArray<LedgerVersion> versions, int index)
        {
            var entry = Entry(versions, index);
            return (entry.Bytes, entry.StateKey);
        }

        private (TimelineVersion Message, byte[] Bytes, byte[] StateKey) Entry(ImmutableArray<LedgerVersion> versions, int index)
        {
            var version = versions[index];
            if (_versions.TryGetValue(version, out var entry)) return entry;
            if (_previousVersions is null || !_previousVersions.TryGetValue(version, out entry))
            {
                var list = ImmutableCollectionsMarshal.AsArray(versions)!;
                if (!_shown.TryGetValue(list, out var shown)) _shown[list] = shown = ledger.Versions(versions);
                var message = new TimelineVersion
                {
                    From = version.From.ToProto(),
                    HeldSince = shown[index].HeldSince.ToProto(),
                    ConventionalSince = shown[index].ConventionalSince?.ToProto(),
                };
                message.Records.AddRange(version.Records.Select(r => r.ToProto()));
                message.Changes.AddRange(version.Changes.Select(c => c.ToProto()));
                entry = (message, message.ToByteArray(), StateKey(version.Key));
            }

            _versions[version] = entry;
            return entry;
        }
    }
}
