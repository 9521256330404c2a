using System.Diagnostics;
using Grpc.Core;
using PortHistory.Contracts.V1;

namespace PortHistory.Testing.Chaos;

/// <summary>
/// Faults made under load against a <see cref="ChaosCluster"/>. Each scenario reports on ports of its own, leaves
/// three serving silos behind, and returns what callers saw; <paramref name="seconds"/> is how long load runs around
/// the fault (short in the test suite, long in the chaos benchmark).
/// </summary>
public static partial class ChaosScenarios
{
    /// <summary>The settings every silo of a chaos cluster runs with: checkpoints rare, compaction frequent, so that
    /// a crash must recover from the journal and the journal is compacted as eagerly as it may be.</summary>
    public static IReadOnlyDictionary<string, string> ClusterSettings { get; } = new Dictionary<string, string>
    {
        ["PortHistory__Verdicts__CheckpointEvery"] = "100",
        ["PortHistory__Verdicts__CheckpointInterval"] = "01:00:00",
        ["PortHistory__Sightings__CompactionInterval"] = "00:00:00.200",
    };

    /// <summary>
    /// A silo that acknowledged sightings (and would hand them to the grains only an hour later) is killed with
    /// SIGKILL while readers use the other gateways and agents report; reporting stops at its death, so the time to
    /// visible is the time from its death. The figures also tell when the cluster declared it dead: how long failure
    /// detection took (Orleans' probes, slower while a survivor is overloaded) apart from what PortHistory does next.
    /// </summary>
    public static async Task<ChaosFigures> SiloKillAsync(ChaosCluster cluster, double seconds)
    {
        await cluster.ReplaceAsync(2, new Dictionary<string, string> { ["PortHistory__Sightings__DispatchWindow"] = "01:00:00" });
        var victim = cluster.Silos[2];
        var load = new ChaosLoad(cluster, 3001, readersAvoid: victim);
        await load.ProgressAsync(reads: 400, batches: 20);
        await Task.Delay(TimeSpan.FromSeconds(seconds / 2));
        load.FaultBegins();
        await cluster.KillAsync(2);
        var declaredDead = cluster.DeclaredDeadAsync(victim, TimeSpan.FromSeconds(120));
        await load.StopReportingAsync();
        // A load balancer's health checks take the dead gateway out; agents sent their last batches elsewhere.
        cluster.Withdraw(victim);
        await load.ProgressAsync(reads: 400, batches: 0);
        var figures = await load.FinishAsync("silo SIGKILL", declaredDead: declaredDead);
        await cluster.ReplaceAsync(2);
        return figures;
    }

    /// <summary>Each of the three silos in turn is withdrawn from the load balancer, stopped, and replaced, under load.</summary>
    public static async Task<ChaosFigures> RollingRestartAsync(ChaosCluster cluster, double seconds)
    {
        var load = new ChaosLoad(cluster, 3101);
        await load.ProgressAsync(reads: 400, batches: 20);
        load.FaultBegins();
        for (var i = 0; i < cluster.Silos.Count; i++)
        {
            await cluster.ReplaceAsync(i);
            await Task.Delay(TimeSpan.FromSeconds(seconds / cluster.Silos.Count / 2));
        }

        load.FaultEnds();
        await load.ProgressAsync(reads: 400, batches: 20);
        return await load.FinishAsync("rolling restart");
    }

    /// <summary>PostgreSQL stops (immediate shutdown, as a crash) mid-ingest and comes back; the silos recover by themselves.</summary>
    public static async Task<ChaosFigures> PostgresRestartAsync(ChaosCluster cluster, double seconds)
    {
        var processes = cluster.Silos.Select(s => s.ProcessId).ToList();
        var load = new ChaosLoad(cluster, 3201);
        await load.ProgressAsync(reads: 400, batches: 20);
        await Task.Delay(TimeSpan.FromSeconds(seconds / 4));
        load.FaultBegins();
        await cluster.Postgres.StopAsync();
        // The outage lasts a while: long enough for every silo to notice, while agents keep trying.
        await Task.Delay(TimeSpan.FromSeconds(Math.Max(3, seconds / 4)));
        await cluster.Postgres.StartAgainAsync();
        // The checks' own pooled connections died with the old server: the scenarios after this one start with fresh ones.
        cluster.Sql.Clear();
        foreach (var silo in cluster.Silos) await silo.WaitUntilServingAsync(TimeSpan.FromSeconds(90));
        load.FaultEnds();
        await load.ProgressAsync(reads: 400, batches: 50);
        var figures = await load.FinishAsync("PostgreSQL restart");
        if (!cluster.Silos.Select(s => s.ProcessId).SequenceEqual(processes)) throw new InvalidOperationException("a silo did not survive the database's restart");
        return figures;
    }

    /// <summary>
    /// The connection of a journal flush is cut after PostgreSQL received its COMMIT and before the answer came back,
    /// <paramref name="cuts"/> times: each batch was committed but its writer saw a failure.
    /// </summary>
    public static async Task<ChaosFigures> CommitCutAsync(ChaosCluster cluster, double seconds, int cuts = 5)
    {
        var load = new ChaosLoad(cluster, 3301);
        await load.ProgressAsync(reads: 400, batches: 20);
        var before = cluster.Proxy.Cuts;
        load.FaultBegins();
        cluster.Proxy.CutCommitsOf("sighting_journal", cuts);
        await Eventually.Async(() => Task.FromResult(cluster.Proxy.Cuts), n => n >= before + cuts, TimeSpan.FromSeconds(60));
        load.FaultEnds();
        // Every journal lane goes on: as many batches again after the cuts as the agents make in a while.
        await load.ProgressAsync(reads: 400, batches: 100);
        await Task.Delay(TimeSpan.FromSeconds(seconds / 4));
        return await load.FinishAsync($"connection cut at COMMIT ×{cuts}");
    }

    /// <summary>
    /// Sightings beyond a port's last checkpoint, an import that refreshes every observed port's verdict, journal
    /// compaction, then every silo killed at once and the cluster started again: the port holds every acknowledged
    /// sighting.
    /// </summary>
    public static async Task<ChaosFigures> RefreshThenCrashAsync(ChaosCluster cluster)
    {
        const uint port = 50123;
        var agent = new Sightings.SightingsClient(cluster.AgentChannel(cluster.Silos[0]));
        var observations = new Observations.ObservationsClient(cluster.Silos[1].Channel);
        // A checkpoint after 100 sightings (ClusterSettings); the next 50 live in the grain's memory and the journal only.
        await agent.ReportBatchAsync(FleetSimulator.Batch(Enumerable.Range(0, 100).Select(i => FleetSimulator.Sighting($"r-{i % 20}", port, Transport.Tcp, "daemon"))));
        await Eventually.Async(() => ObservedAsync(), n => n == 100);
        await Eventually.Async(() => CheckpointedAsync(), n => n == 1);
        await agent.ReportBatchAsync(FleetSimulator.Batch(Enumerable.Range(100, 50).Select(i => FleetSimulator.Sighting($"r-{i % 20}", port, Transport.Tcp, "daemon"))));
        await Eventually.Async(() => ObservedAsync(), n => n == 150);

        // An import refreshes the verdicts of every observed port (seen in the index), then compaction runs (a pass is
        // seen to delete a hand-made row below a recorded watermark). Any edition new to the cluster will do: a small
        // one that no other scenario imports stages a few hundred ports instead of every port an IANA file lists, and
        // RFC 1010 lists none of the ports whose timelines the import race expects to begin at RFC 1340.
        var indexed = await IndexedAtAsync();
        var import = await EditionUpload.ImportAsync(cluster.Silos[0].Channel, RegistryData.PathOf("rfc1010.txt"));
        if (import[^1].Stage != ImportStage.Committed) throw new InvalidOperationException($"the import did not commit: {import[^1]}");
        await Eventually.Async(IndexedAtAsync, t => t > indexed);
        await using (var sentinel = cluster.Sql.CreateCommand("""
            WITH w AS (INSERT INTO sighting_writers DEFAULT VALUES RETURNING writer_id),
                 j AS (INSERT INTO sighting_journal (writer_id, seq, port, transport, host_hash, host_ref, observed_at, address_family, local_address,
                                                     bind_scope, socket_state, process, executable, pid, username, privileged, container_id,
                                                     network_namespace, batch_id)
                       SELECT writer_id, 1, 65000, 1, 1, 'sentinel', now(), 1, '', 1, 1, 's', '', 1, '', true, '', '', gen_random_uuid() FROM w)
            INSERT INTO port_watermarks (port, writer_id, seq) SELECT 65000, writer_id, 1 FROM w
            """))
        {
            await sentinel.ExecuteNonQueryAsync();
        }

        await Eventually.Async(async () =>
        {
            await using var count = cluster.Sql.CreateCommand("SELECT count(*) FROM sighting_journal WHERE port = 65000");
            return (long)(await count.ExecuteScalarAsync())!;
        }, n => n == 0);

        var crash = Stopwatch.StartNew();
        foreach (var i in Enumerable.Range(0, cluster.Silos.Count)) await cluster.KillAsync(i);
        await cluster.ReplaceAsync(0);
        await Task.WhenAll(Enumerable.Range(1, cluster.Silos.Count - 1).Select(i => cluster.ReplaceAsync(i)));
        observations = new Observations.ObservationsClient(cluster.Silos[1].Channel);
        ulong after;
        try
        {
            after = await Eventually.Async(() => ObservedAsync(), n => n >= 150, TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            after = await ObservedAsync();
        }

        return new ChaosFigures("refresh, compact, crash", 0, 0, 0, 150, Math.Max(0, 150 - (long)after), Math.Max(0, (long)after - 150), crash.Elapsed.TotalSeconds, []);

        async Task<ulong> ObservedAsync() =>
            (await observations.GetObservedAsync(new GetObservedRequest { Port = port })).Observed.Transports.SingleOrDefault()?.Sightings ?? 0;

        async Task<DateTime> IndexedAtAsync()
        {
            await using var updated = cluster.Sql.CreateCommand($"SELECT updated_at FROM port_observations WHERE port = {port}");
            return (DateTime)(await updated.ExecuteScalarAsync())!;
        }

        async Task<long> CheckpointedAsync()
        {
            await using var count = cluster.Sql.CreateCommand($"SELECT count(*) FROM port_observations WHERE port = {port}");
            return (long)(await count.ExecuteScalarAsync())!;
        }
    }
}
