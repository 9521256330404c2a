using PortHistory.Grains.Tests;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;
using PortHistory.Server.Application.Import;

namespace PortHistory.Server.Application.Tests;

/// <summary>
/// What one history generation writes: per port the grain state bytes and their hash (shared by ports with equal
/// timelines, so only changed ports are restaged), and index rows per range of ports that share versions.
/// </summary>
public sealed class RegistryProjectionTests
{
    private static readonly RegistryProjection Projection = TinyRegistry.Projection;

    [Fact]
    public void Ports_of_one_range_share_one_state_instance_and_one_hash()
    {
        Assert.Same(Projection.PortTimelines[1000], Projection.PortTimelines[1009]);
        Assert.Same(Projection.PortHashes[1000], Projection.PortHashes[1009]);
        Assert.NotEqual(Projection.PortHashes[1000], Projection.PortHashes[1010]);
        Assert.NotEqual(Projection.PortHashes[770], Projection.PortHashes[771]);
    }

    [Fact]
    public void Ports_never_listed_share_the_empty_state_wherever_they_lie()
    {
        int[] unlisted = [0, 8, 10, 769, 999, 1010, PortSpan.MaxPort];

        Assert.All(unlisted, port => Assert.Equal(RegistryProjection.EmptyHash, Projection.PortHashes[port]));
        Assert.All(unlisted, port => Assert.Same(Projection.PortTimelines[0], Projection.PortTimelines[port]));
        Assert.Empty(Projection.PortTimelines[0]);
        Assert.NotEqual(RegistryProjection.EmptyHash, Projection.PortHashes[9]);
    }

    [Fact]
    public void A_port_state_holds_each_listed_transport_with_versions_carrying_their_first_edition_only()
    {
        var stored = TinyRegistry.Stored(771);

        var tcp = Assert.Single(stored.Timelines);
        Assert.Equal(Contracts.V1.Transport.Tcp, tcp.Transport);
        Assert.Equal([TinyRegistry.FirstId, TinyRegistry.SecondId], tcp.Versions.Select(v => v.From.Id));
        // Where a version ends depends on what is committed later: not stored.
        Assert.All(tcp.Versions, v => Assert.Equal((null, 0u), (v.Through, v.EditionCount)));
        Assert.Equal(["Real Time IP", "Real-time IP"], tcp.Versions.Select(v => v.Records[0].Description));
        // Where the holding began is known when the history is built and never moves: stored with each version.
        Assert.All(tcp.Versions, v => Assert.Equal(TinyRegistry.FirstId, v.HeldSince.Id));

        Assert.Equal([Contracts.V1.Transport.Tcp, Contracts.V1.Transport.Udp], TinyRegistry.Stored(776).Timelines.Select(t => t.Transport));
    }

    [Fact]
    public void Edition_order_is_history_order_whatever_order_the_editions_came_in()
    {
        var reversed = RegistryProjection.Build(RegistryHistory.Build(
            [TinyRegistry.Edition(TinyRegistry.SecondDate, TinyRegistry.SecondRows), TinyRegistry.Edition(TinyRegistry.FirstDate, TinyRegistry.FirstRows)]));

        Assert.Equal([TinyRegistry.FirstId, TinyRegistry.SecondId], Projection.EditionOrder);
        Assert.Equal(Projection.EditionOrder, reversed.EditionOrder);
        Assert.Equal(Projection.PortHashes, reversed.PortHashes);
    }

    [Fact]
    public void Version_rows_cover_exactly_the_ranges_that_share_versions()
    {
        var tcp = Rows(TransportProtocol.Tcp);

        // Ranks index EditionOrder: 0 is the 2020 edition, 1 the 2021 one. A version still in effect has no end rank
        // (Open): a newer edition that leaves it alone leaves its row alone.
        Assert.Equal(
        [
            (770, 770, 0, 0, Open, RecordStatus.Assigned),
            (771, 771, 0, 0, 0, RecordStatus.Assigned),
            (771, 771, 1, 1, Open, RecordStatus.Assigned),
            (776, 776, 0, 0, Open, RecordStatus.Assigned),
            (777, 777, 0, 1, Open, RecordStatus.Assigned),
            (1000, 1009, 0, 0, Open, RecordStatus.Unassigned),
        ], tcp);
        Assert.Equal([(776, 776, 0, 0, Open, RecordStatus.Assigned)], Rows(TransportProtocol.Udp));
        Assert.Equal([(9, 9, 0, 0, Open, RecordStatus.Assigned), (1000, 1009, 0, 0, Open, RecordStatus.Unassigned)], Rows(TransportProtocol.Sctp));
        Assert.Empty(Rows(TransportProtocol.Dccp));
    }

    [Fact]
    public void Versions_that_say_the_same_share_a_state_key_and_different_ones_do_not()
    {
        var rows = Projection.Index.Versions.Where(r => r.Transport == (short)TransportProtocol.Tcp).ToList();
        var rtip = rows.Where(r => r.PortFirst == 771).ToList();
        var wpagesTcp = rows.Single(r => r.PortFirst == 776);
        var wpagesUdp = Projection.Index.Versions.Single(r => r.Transport == (short)TransportProtocol.Udp && r.PortFirst == 776);

        Assert.NotEqual(rtip[0].StateKey, rtip[1].StateKey);
        Assert.NotEqual(rtip[1].StateKey, wpagesTcp.StateKey);
        Assert.Equal(wpagesTcp.StateKey, wpagesUdp.StateKey);
    }

    [Fact]
    public void Changing_one_edition_changes_the_hash_of_exactly_the_ports_it_changes()
    {
        // 776/udp gets a description in place and 1005 leaves the unassigned range. Rows keep their lines: a
        // record's line is part of what it says (answers cite it), so moving a row would change its port too.
        var changedRows = TinyRegistry.SecondRows
            .Select(r => r.StartsWith("wpages,776,udp", StringComparison.Ordinal) ? "wpages,776,udp,Web pages,,,,,,,," : r)
            .Append("newsvc,1005,tcp,New service,,,,,,,,")
            .ToArray();
        var changed = RegistryProjection.Build(RegistryHistory.Build(
            [TinyRegistry.Edition(TinyRegistry.FirstDate, TinyRegistry.FirstRows), TinyRegistry.Edition(TinyRegistry.SecondDate, changedRows)]));

        Assert.Equal([776, 1005], DifferingPorts(Projection, changed));
        // The two halves of the split range are two segments now: equal states (one hash), not one instance.
        Assert.Equal(changed.PortTimelines[1004], changed.PortTimelines[1006]);
        Assert.Equal(changed.PortHashes[1004], changed.PortHashes[1006]);
    }

    [Fact]
    public void A_newer_edition_that_leaves_a_port_unchanged_leaves_its_hash_unchanged()
    {
        var firstOnly = TinyRegistry.FirstOnlyProjection;

        // The second edition changes 771 and adds 777; nothing else needs restaging.
        Assert.Equal([771, 777], DifferingPorts(firstOnly, Projection));
        Assert.Equal([TinyRegistry.FirstId], firstOnly.EditionOrder);
    }

    [Fact]
    public void A_newer_edition_leaves_the_index_rows_of_what_it_does_not_change_as_they_were()
    {
        var delta = Server.Application.Registry.QueryIndexDelta.Between(TinyRegistry.FirstOnlyProjection.Index, Projection.Index);

        // 771/tcp: its first version closes and a second starts; 777/tcp appears. No other row is written.
        Assert.Equal([(771, 0), (771, 1), (777, 0)], delta.Versions.Select(r => (r.PortFirst, r.VersionIndex)).Order());
        Assert.Empty(delta.DeletedVersions);
        Assert.Equal(["multiling-http"], delta.Holdings.Select(h => h.NameLower));
        Assert.Empty(delta.DeletedHoldings);
    }

    [Fact]
    public void An_empty_history_projects_every_port_to_the_empty_hash_and_writes_no_rows()
    {
        var empty = RegistryProjection.Build(RegistryHistory.Empty);

        Assert.Equal(PortSpan.MaxPort + 1, empty.PortHashes.Length);
        Assert.All(empty.PortHashes, hash => Assert.Equal(RegistryProjection.EmptyHash, hash));
        Assert.Empty(empty.Index.Versions);
        Assert.Empty(empty.EditionOrder);
    }

    private const int Open = Server.Application.Registry.QueryIndexRows.OpenThrough;

    private static List<(int First, int Last, int Version, int From, int Through, RecordStatus Status)> Rows(TransportProtocol transport) =>
    [
        .. Projection.Index.Versions
            .Where(r => r.Transport == (short)transport)
            .OrderBy(r => r.PortFirst).ThenBy(r => r.VersionIndex)
            .Select(r => (r.PortFirst, r.PortLast, r.VersionIndex, r.FromRank, r.ThroughRank, (RecordStatus)r.Status)),
    ];

    private static List<int> DifferingPorts(RegistryProjection before, RegistryProjection after) =>
        [.. Enumerable.Range(0, PortSpan.MaxPort + 1).Where(p => !before.PortHashes[p].AsSpan().SequenceEqual(after.PortHashes[p]))];
}
