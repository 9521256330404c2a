using PortHistory.Testing.Chaos;

namespace PortHistory.Benchmarks;

/// <summary>
/// The chaos scenarios of the test suite, with load running longer around each fault: what readers and agents saw,
/// per scenario, on three silos of one cluster.
/// </summary>
internal static class ChaosBenchmark
{
    public static async Task RunAsync(TextWriter output, int seconds)
    {
        await using var cluster = await ChaosCluster.StartAsync(3, ChaosScenarios.ClusterSettings);
        var table = new Table("scenario", "reads ok", "reads failed", "p99 read ms (fault)", "sightings acked", "lost", "twice", "s to visible", "s to declared dead");
        void Add(ChaosFigures f) => table.Add(f.Scenario, f.ReadsOk, f.ReadsFailed, f.P99ReadMs, f.Acknowledged, f.Lost, f.Twice, f.SecondsToVisible is { } s ? s : (object)"never",
            f.SecondsToDeclaredDead is { } d ? d : (object)"");

        Add(await ChaosScenarios.SiloKillAsync(cluster, seconds));
        Add(await ChaosScenarios.RollingRestartAsync(cluster, seconds));
        Add(await ChaosScenarios.PostgresRestartAsync(cluster, seconds));
        Add(await ChaosScenarios.CommitCutAsync(cluster, seconds, cuts: 20));
        var (import, race) = await ChaosScenarios.ImportLockKillAsync(cluster);
        Add(import);
        Add(await ChaosScenarios.RefreshThenCrashAsync(cluster));

        output.WriteLine($"chaos: 3 silos, {seconds} s of load around each fault; 8 readers (GetPort), 2 agents (batches of 20 sightings)");
        table.WriteTo(output);
        output.WriteLine($"import race: staged generation {race.StagedGeneration} {race.GenerationStates.GetValueOrDefault(race.StagedGeneration)}, " +
                         $"current {race.CurrentGeneration}; generations {string.Join(", ", race.GenerationStates.OrderBy(g => g.Key).Select(g => $"{g.Key}={g.Value}"))}");
        output.WriteLine("s to visible: from the end of reporting (for the silo kill, its death; for the crash, the kill of every silo) until every acknowledged sighting was counted.");
        output.WriteLine("s to declared dead: from the silo's kill until the cluster's membership table showed it dead (Orleans' failure detection).");
    }
}
