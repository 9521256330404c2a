using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Storage;
using Orleans.TestingHost;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Ports;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application;
using PortHistory.Server.Application.Import;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Grains.Tests;

/// <summary>
/// A port's state written by someone else after its activation read it (as a duplicate activation may while a cluster
/// recovers): the activation's next write is refused, Orleans deactivates it, and a stage made again reaches an
/// activation that read the newer state, so an import that meets it goes on.
/// </summary>
[Collection(PortGrainCollection.Name)]
public sealed class StaleActivationTests(PortGrainCluster fixture)
{
    [Fact]
    public async Task A_stage_refused_for_a_stale_activation_is_made_again_by_the_importer_and_stored()
    {
        const int port = 1005;
        var grain = fixture.Cluster.GrainFactory.GetGrain<IPortGrain>(port);
        var timelines = TinyRegistry.Projection.PortTimelines[port];
        await grain.StageRegistryAsync(701, [], new(timelines));

        await WriteBehindTheActivationAsync(grain);
        // Made once more by hand: the activation's write is refused.
        await Assert.ThrowsAsync<InconsistentStateException>(() => grain.StageRegistryAsync(702, [], new(timelines)));
        await WriteBehindTheActivationAsync(grain);

        var staging = new PortStaging(new GrainRegistryStaging(new KeyedGrains(fixture.Cluster.GrainFactory)), new ImportProgressHub(new PortHistoryMetrics()),
            Options.Create(new ImportOptions()), NullLogger<PortStaging>.Instance);
        await staging.StageAsync(703, [], Enumerable.Repeat(timelines, port + 1).ToArray(), [port], ["tiny"], CancellationToken.None);

        Assert.Equal(703, (await grain.GetRegistryGenerationsAsync()).Staged);
    }

    /// <summary>Reads the port's stored state and writes it back, as another activation's checkpoint would: the stored version moves on.</summary>
    private async Task WriteBehindTheActivationAsync(IPortGrain grain)
    {
        var silo = (InProcessSiloHandle)fixture.Cluster.Primary!;
        var storage = silo.SiloHost!.Services.GetRequiredKeyedService<IGrainStorage>(PortGrainStorage.Name);
        var stored = new GrainState<PortGrainState>();
        await storage.ReadStateAsync("port", grain.GetGrainId(), stored);
        await storage.WriteStateAsync("port", grain.GetGrainId(), stored);
    }
}
