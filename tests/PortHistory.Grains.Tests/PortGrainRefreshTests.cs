using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Tests.Support;

namespace PortHistory.Grains.Tests;

/// <summary>
/// After an import, the importing silo asks every observed port to judge again. A port's grain may live on another
/// silo whose view of the committed generations has not caught up yet (the notification is on its way): it must
/// judge against the generation it was told of, or the new assignment is never announced.
/// </summary>
[Collection(PortGrainCollection.Name)]
public sealed class PortGrainRefreshTests(PortGrainCluster fixture)
{
    private static readonly DateTime At = new(2026, 5, 1, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public async Task A_refresh_for_a_generation_committed_by_another_silo_judges_against_it_and_announces_the_new_assignment()
    {
        const int port = 777, writer = 3;
        var grain = fixture.Cluster.GrainFactory.GetGrain<IPortGrain>(port);
        await grain.StageRegistryAsync(951, [], new(TinyRegistry.FirstOnlyProjection.PortTimelines[port]));
        PortGrainCluster.Catalog.Commit(951);
        var hosts = new ListenerScript();
        ObservationEntry[] sightings = [.. Enumerable.Range(1, 4).SelectMany(h => hosts.Start(h, "myapp", At))];
        PortGrainCluster.Journal.Append(port, writer, sightings);
        await grain.ObserveAsync(new([new ObservationDelta(writer, 0, sightings)]));
        Assert.DoesNotContain(PortGrainCluster.WatchEvents.Of(port), e => e.Kind == WatchEventKind.AssignmentChanged);

        await grain.StageRegistryAsync(952, [], new(TinyRegistry.Projection.PortTimelines[port]));
        PortGrainCluster.Catalog.CommitElsewhere(952);
        await grain.RefreshVerdictsAsync(952);

        var changed = Assert.Single(PortGrainCluster.WatchEvents.Of(port), e => e.Kind == WatchEventKind.AssignmentChanged);
        Assert.Equal((Transport.Tcp, "", "multiling-http"), (changed.Transport, changed.OldService, changed.NewService));
    }
}
