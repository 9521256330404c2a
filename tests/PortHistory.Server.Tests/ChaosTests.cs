using PortHistory.Contracts.V1;
using PortHistory.Testing.Chaos;

namespace PortHistory.Server.Tests;

/// <summary>Three silos on loopback and one PostgreSQL, shared by the chaos scenarios (each leaves three serving silos).</summary>
public sealed class ChaosClusterFixture : IAsyncLifetime
{
    public ChaosCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await ChaosCluster.StartAsync(3, ChaosScenarios.ClusterSettings);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>
/// The chaos scenarios in their short form (the chaos benchmark runs them longer): faults under read and ingest load,
/// each with exact totals of what agents had acknowledged.
/// </summary>
[Collection(OwnServerCollection.Name)]
public sealed class ChaosTests(ChaosClusterFixture fixture, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<ChaosClusterFixture>
{
    private const double Seconds = 4;
    private ChaosCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task A_silo_killed_under_load_fails_no_read_on_the_others_and_its_sightings_are_visible_within_15_seconds_of_its_death_declared()
    {
        var figures = await ChaosScenarios.SiloKillAsync(Cluster, Seconds);

        AssertExact(figures);
        Assert.True(figures.ReadsFailed == 0, figures.ToString());
        // How soon the cluster agrees a silo is dead is Orleans' failure detection, and it waits longer while the
        // survivors are overloaded; from then on the dead silo's rows are swept at once (1.7-4.9 s to visible in the runs so
        // far, under the whole suite's load), not at the periodic sweep 30 s later.
        Assert.True(figures.SecondsToDeclaredDead is not null, figures.ToString());
        Assert.True(figures.SecondsToVisible - figures.SecondsToDeclaredDead < 15, figures.ToString());
    }

    [Fact]
    public async Task A_rolling_restart_under_load_fails_no_read_and_counts_every_sighting_once()
    {
        var figures = await ChaosScenarios.RollingRestartAsync(Cluster, Seconds);

        AssertExact(figures);
        Assert.True(figures.ReadsFailed == 0, figures.ToString());
    }

    [Fact]
    public async Task After_postgresql_restarts_mid_ingest_the_silos_recover_by_themselves_and_count_every_sighting_once()
    {
        var figures = await ChaosScenarios.PostgresRestartAsync(Cluster, Seconds);

        AssertExact(figures);
    }

    [Fact]
    public async Task Connections_cut_after_a_journal_commit_wedge_no_lane_and_count_every_sighting_once()
    {
        var before = Cluster.Proxy.Cuts;

        var figures = await ChaosScenarios.CommitCutAsync(Cluster, Seconds, cuts: 5);

        Assert.Equal(before + 5, Cluster.Proxy.Cuts);
        AssertExact(figures);
    }

    [Fact]
    public async Task When_the_import_lock_connection_dies_mid_import_one_generation_wins_and_no_port_is_left_on_another()
    {
        var (figures, race) = await ChaosScenarios.ImportLockKillAsync(Cluster);

        Assert.True(race.LockConnectionsKilled > 0, race.ToString());
        Assert.Equal((ImportStage.Committed, ImportStage.Committed), (Finished(race.First), Finished(race.Second)));
        Assert.DoesNotContain("applying", race.GenerationStates.Values);
        // The generation being staged when its lock died was aborted by the other importer and never made current.
        Assert.Equal("aborted", race.GenerationStates[race.StagedGeneration]);
        Assert.Equal("committed", race.GenerationStates[race.CurrentGeneration]);
        Assert.Contains("rfc1340", race.Editions);
        Assert.Contains("rfc1700", race.Editions);
        // Every port shows the current generation: each timeline runs from RFC 1340 to the newest edition, on every gateway.
        var newest = race.Editions[^1];
        foreach (var silo in Cluster.Silos)
        {
            var registry = new PortRegistry.PortRegistryClient(silo.Channel);
            foreach (var port in new uint[] { 771, 772, 776 })
            {
                var timeline = (await registry.GetTimelineAsync(new GetTimelineRequest { Port = port })).Timelines.Single(t => t.Transport == Transport.Tcp);
                Assert.Equal(("rfc1340", newest), (timeline.Versions[0].From.Id, timeline.Versions[^1].Through.Id));
            }
        }

        Assert.True(figures.ReadsFailed == 0, figures.ToString());
    }

    [Fact]
    public async Task Sightings_past_the_last_checkpoint_survive_a_verdict_refresh_then_compaction_then_every_silo_killed()
    {
        var figures = await ChaosScenarios.RefreshThenCrashAsync(Cluster);

        AssertExact(figures);
    }

    /// <summary>An import that reported its lock lost was asked again: AlreadyImported then means another run committed it.</summary>
    private static ImportStage Finished(ImportStage stage) => stage == ImportStage.AlreadyImported ? ImportStage.Committed : stage;

    private void AssertExact(ChaosFigures figures)
    {
        output.WriteLine(figures.ToString());
        Assert.True(figures is { Lost: 0, Twice: 0, SecondsToVisible: not null }, $"{figures}\n{Cluster.Problems}");
        Assert.True(figures.Acknowledged > 0, figures.ToString());
    }
}
