using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Tests.Support;
using PortHistory.Observations;

namespace PortHistory.Grains.Tests;

/// <summary>
/// A writer's last delivery for a port can be lost for good (its sightings journalled, the call never arriving) with no
/// later delivery from that writer to show the gap: the port's next checkpoint reads what the journal holds past its
/// watermarks, so those sightings are counted then rather than at the grain's next activation.
/// </summary>
[Collection(PortGrainCollection.Name)]
public sealed class PortGrainCheckpointTests(PortGrainCluster fixture)
{
    private static readonly DateTime At = new(2026, 5, 1, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public async Task A_checkpoint_counts_a_writers_last_delivery_that_never_arrived()
    {
        const int port = 3301, writerA = 41, writerB = 42;
        var grain = await ActivatedAsync(port, checkpointEvery: 5);

        var a = new ListenerScript();
        var delivered = Starts(a, 1, 2);
        PortGrainCluster.Journal.Append(port, writerA, delivered);
        await grain.ObserveAsync(new([new ObservationDelta(writerA, 0, delivered)]));
        // Writer A's last sightings for the port: journalled, their delivery lost.
        var lost = Starts(a, 3, 3);
        PortGrainCluster.Journal.Append(port, writerA, lost);
        Assert.Equal(2UL, Hosts(await Observed(grain)));

        // Writer B's delivery brings the grain to its checkpoint count.
        var b = new ListenerScript();
        var other = Starts(b, 4, 4);
        PortGrainCluster.Journal.Append(port, writerB, other);
        await grain.ObserveAsync(new([new ObservationDelta(writerB, 0, other)]));

        Assert.Equal(4UL, Hosts(await Observed(grain)));
    }

    [Fact]
    public async Task A_port_whose_entries_were_all_unusable_records_how_far_it_read_so_the_journal_can_let_them_go()
    {
        const int port = 3302, writer = 43;
        var grain = await ActivatedAsync(port, checkpointEvery: 1);

        ObservationEntry[] unusable = [.. Starts(new ListenerScript(), 1, 2).Select(e => e with { Transport = (Transport)99 })];
        PortGrainCluster.Journal.Append(port, writer, unusable);
        await grain.ObserveAsync(new([new ObservationDelta(writer, 0, unusable)]));

        Assert.Empty((await Observed(grain)).Observed.Transports);
        Assert.Equal(unusable[^1].Seq, PortGrainCluster.Journal.Recorded[port][writer]);
    }

    /// <summary>The port's grain, activated with nothing observed while checkpoints come every <paramref name="checkpointEvery"/> entries (a grain takes the setting when it activates).</summary>
    private async Task<IPortGrain> ActivatedAsync(int port, int checkpointEvery)
    {
        var grain = fixture.Cluster.GrainFactory.GetGrain<IPortGrain>(port);
        PortGrainCluster.Context.CheckpointEvery = checkpointEvery;
        try
        {
            Assert.Empty((await Observed(grain)).Observed.Transports);
        }
        finally
        {
            PortGrainCluster.Context.CheckpointEvery = 1_000_000;
        }

        return grain;
    }

    private static async Task<GetObservedResponse> Observed(IPortGrain grain) =>
        (await grain.GetObservedAsync(Transport.Unspecified, includeHostRefs: false)).Value;

    private static ulong Hosts(GetObservedResponse response) => Assert.Single(response.Observed.Transports).OnlineHosts;

    private static ObservationEntry[] Starts(ListenerScript hosts, int first, int last) =>
        [.. Enumerable.Range(first, last - first + 1).SelectMany(host => hosts.Start(host, "myapp", At.AddSeconds(host)))];
}
