using System.Globalization;
using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Benchmarks;

/// <summary>
/// A fleet of simulated hosts reporting differentially to one server, with a tenth as many reporting in full as the
/// baseline, through phases: initial snapshots, steady heartbeats with churn, then faults (agents losing their
/// state; duplicated, dropped and reordered reports; the server killed and restarted; a restart storm of snapshots).
/// Ends with a check that the server holds every host's set as the simulator does.
/// </summary>
internal static class FleetBenchmark
{
    /// <summary>Scaled down from the 60 s default so that a few minutes show many periods; the load is that of a fleet 60 s / period times larger.</summary>
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(10);
    private const double Churn = 0.01;
    private const int Concurrency = 256;
    private const int Channels = 4;

    public static Dictionary<string, string> Settings(TimeSpan period) => new(IngestBenchmark.Settings)
    {
        ["PortHistory__Hosts__HeartbeatPeriod"] = period.ToString("c", CultureInfo.InvariantCulture),
        // Scaled with the heartbeat (5 minutes and 30 s at 60 s), so that a run writes last-seen times as often per period
        // as a real fleet, and sends as large a share of heartbeats to the hosts' grains (the default 5 minutes: 1 in 5).
        ["PortHistory__Hosts__LastSeenWriteInterval"] = Scaled(TimeSpan.FromMinutes(5), period).ToString("c", CultureInfo.InvariantCulture),
        ["PortHistory__Hosts__GrainHeartbeatInterval"] = Scaled(TimeSpan.FromMinutes(5), period).ToString("c", CultureInfo.InvariantCulture),
        ["PortHistory__Hosts__SweepInterval"] = Scaled(TimeSpan.FromSeconds(30), period).ToString("c", CultureInfo.InvariantCulture),
        // Low enough that the calls this process keeps in flight meet it when every host sends a snapshot at once.
        ["PortHistory__Hosts__MaxConcurrentChanges"] = "64",
        ["PortHistory__Hosts__RetryAfter"] = "00:00:05",
    };

    /// <summary>A server interval set for a 60 s heartbeat, scaled to the run's heartbeat period.</summary>
    private static TimeSpan Scaled(TimeSpan atSixtySeconds, TimeSpan period) => atSixtySeconds * (period / TimeSpan.FromSeconds(60));

    public static async Task<int> RunAsync(TextWriter output, int hostCount, int seconds)
    {
        var scale = 60 / Period.TotalSeconds;
        output.WriteLine($"PortHistory fleet benchmark: {Environment.ProcessorCount} cores, {hostCount:N0} hosts of 40-60 sockets, heartbeat every {Period.TotalSeconds:0} s " +
            $"(the load of {hostCount * scale:N0} hosts at the default 60 s), {Churn:P0} of hosts change a socket per period, {seconds} s steady, {Concurrency} calls in flight on {Channels} channels");
        output.WriteLine();
        await using var postgres = await PostgresServer.StartAsync();
        var catalog = new FleetCatalog(4000, 1.0, seed: 3);

        var fullHosts = Math.Max(100, hostCount / 10);
        output.WriteLine($"baseline: {fullHosts:N0} hosts reporting every scan in full (ReportBatch), 4 periods, on a server and database of their own");
        var full = await FleetBaseline.RunAsync(postgres, catalog, fullHosts, Period, 4, Concurrency);

        await using var server = new ServerProcess(postgres.ConnectionString("fleet"), Settings(Period));
        await server.StartAsync();
        var issued = await new AccessAdmin.AccessAdminClient(server.Channel).IssueTokenAsync(new IssueTokenRequest { Name = "fleet agents", Role = Role.Agent });
        var channels = Enumerable.Range(0, Channels).Select(_ => server.ChannelWith(() => issued.Token)).ToArray();
        var meter = new FleetMeter(server, postgres.ConnectionString("fleet"));
        var residentBefore = meter.ResidentBytes();

        var random = new Random(1);
        var hosts = Enumerable.Range(0, hostCount)
            .Select(i => new FleetHost($"fleet-{i:D6}", catalog.DrawSet(random, 40 + random.Next(21)), FleetDriver.NewEpochId(random))).ToList();
        var driver = new FleetDriver(catalog, hosts, channels, Period, Churn, Concurrency);
        var phases = new List<(FleetPhase Phase, FleetCost Cost)>();
        using var stop = new CancellationTokenSource();
        Task running;

        async Task<FleetReading> Begin(string name)
        {
            driver.Phase = new FleetPhase(name);
            output.WriteLine($"phase: {name}");
            return await meter.ReadAsync();
        }

        async Task End(FleetReading from) => phases.Add((driver.Phase, FleetCost.Between(from, await meter.ReadAsync(), hostCount)));

        var reading = await Begin("initial snapshots");
        running = driver.RunAsync(stop.Token);
        await WaitUntilAsync(output, driver, () => hosts.All(h => !h.NeedsSnapshot), SettleTimeout(hostCount));
        await End(reading);

        // The port grains write what the snapshots brought at their next checkpoint (the settings' interval, a minute):
        // that is the initial load's cost, so the steady phase starts after it.
        var checkpoints = TimeSpan.Parse(IngestBenchmark.Settings["PortHistory__Verdicts__CheckpointInterval"], CultureInfo.InvariantCulture) + TimeSpan.FromSeconds(10);
        output.WriteLine($"  ({checkpoints.TotalSeconds:0} s of steady load before measuring, while the ports' checkpoints of the snapshots land)");
        await Task.Delay(checkpoints);
        reading = await Begin($"steady: heartbeats, {Churn:P0} churn");
        var tablesBefore = await meter.RowsByTableAsync();
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        var residentPerHost = (double)(meter.ResidentBytes() - residentBefore) / hostCount;
        var tablesAfter = await meter.RowsByTableAsync();
        await End(reading);

        // A heartbeat's own cost, with no change among them: the steady phase's churn costs a change each, which the
        // full reports it is compared with do not carry. As long as the last-seen writes' interval, so that it holds theirs.
        driver.Churn = 0;
        reading = await Begin("heartbeats only, no churn");
        await Task.Delay(Scaled(TimeSpan.FromMinutes(5), Period));
        await End(reading);
        var heartbeats = phases[^1].Cost;
        driver.Churn = Churn;

        reading = await Begin("(a) agent state lost on 1% of hosts");
        foreach (var host in Pick(hosts, random, hostCount / 100)) host.Fault = FleetFault.StateLoss;
        await Task.Delay(Period * 1.5);
        await End(reading);

        reading = await Begin("(b) duplicated, dropped, reordered reports, 1% each");
        var faulty = Pick(hosts, random, hostCount * 3 / 100);
        for (var i = 0; i < faulty.Count; i++) faulty[i].Fault = (FleetFault)((int)FleetFault.Duplicate + i % 3);
        await Task.Delay(Period * 2);
        await End(reading);

        reading = await Begin("(c) server kill -9, restart");
        meter.CpuSeconds();
        await server.KillAsync();
        await Task.Delay(TimeSpan.FromSeconds(2));
        await server.StartAsync();
        await Task.Delay(Period * 2);
        await End(reading);

        reading = await Begin("(d) kill -9, restart, every host sends a snapshot at once");
        meter.CpuSeconds();
        await server.KillAsync();
        await server.StartAsync();
        foreach (var host in hosts) host.Fault = FleetFault.Snapshot;
        driver.WakeAll();
        await WaitUntilAsync(output, driver, () => hosts.All(h => h.Fault == FleetFault.None && !h.NeedsSnapshot), SettleTimeout(hostCount));
        await End(reading);

        reading = await Begin("settle: heartbeats, churn");
        await Task.Delay(Period * 2);
        await stop.CancelAsync();
        await running;
        await End(reading);

        output.WriteLine();
        var table = new Table("phase", "s", "snapshots/s", "changes/s", "heartbeats/s", "CPU s/host/min", "host-table rows/host/day", "all rows/host/day",
            "WAL KB/host/day", "hb p50 ms", "hb p99 ms", "RESYNC expected/not", "retry-after", "unavailable", "faults right/wrong");
        foreach (var (phase, cost) in phases)
        {
            var (p50, p99) = phase.HeartbeatLatency();
            table.Add(phase.Name, cost.Seconds, phase.Snapshots / cost.Seconds, phase.Changes / cost.Seconds, phase.Heartbeats / cost.Seconds,
                cost.CpuSecondsPerHostMinute.ToString("0.00000", CultureInfo.InvariantCulture), cost.HostRowsPerHostDay, cost.AllRowsPerHostDay,
                cost.WalBytesPerHostDay / 1024, p50, p99, $"{phase.ExpectedResyncs}/{phase.UnexpectedResyncs}", phase.RetryAfters, phase.Unavailable,
                $"{phase.FaultsAnsweredRight}/{phase.FaultsAnsweredWrong}");
        }

        var baseline = full.Cost;
        table.Add($"baseline: full reports, {full.Hosts:N0} hosts (batches/s)", baseline.Seconds, "", "", full.BatchesPerSecond,
            baseline.CpuSecondsPerHostMinute.ToString("0.00000", CultureInfo.InvariantCulture), baseline.HostRowsPerHostDay, baseline.AllRowsPerHostDay,
            baseline.WalBytesPerHostDay / 1024, full.P50, full.P99, "", full.RetryAfters, "", $"errors {full.Errors}");
        table.WriteTo(output);
        output.WriteLine();

        var steady = phases[1].Cost;
        // Sustained: in the steady phase the fleet got (nearly) every report it owes a period answered, and in time.
        var owed = hostCount / Period.TotalSeconds;
        var answered = phases[1].Phase.Accepted() / steady.Seconds;
        var steadyP99 = phases[1].Phase.HeartbeatLatency().P99;
        output.WriteLine($"sustained: {(answered >= 0.95 * owed && steadyP99 < 1000 ? "yes" : "no")}, the load of {hostCount * scale:N0} hosts at a 60 s heartbeat " +
            $"(steady: {answered:N0} reports answered a second of the {owed:N0} owed, {answered / owed:P0}, at least 95%; heartbeat p99 {steadyP99:N0} ms, under 1,000)");
        output.WriteLine($"a heartbeat vs a full report, per host: CPU {heartbeats.CpuSecondsPerHostMinute / baseline.CpuSecondsPerHostMinute:0.000}x " +
            $"({heartbeats.CpuSecondsPerHostMinute / scale * 1e6:N0} against {baseline.CpuSecondsPerHostMinute / scale * 1e6:N0} CPU µs per host per minute at a 60 s heartbeat)");
        output.WriteLine($"steady differential (heartbeats and {Churn:P0} churn) vs full reports, per host: CPU {steady.CpuSecondsPerHostMinute / baseline.CpuSecondsPerHostMinute:0.000}x, " +
            $"rows written {steady.AllRowsPerHostDay / baseline.AllRowsPerHostDay:0.000}x, WAL {steady.WalBytesPerHostDay / baseline.WalBytesPerHostDay:0.000}x");
        output.WriteLine($"steady at a 60 s heartbeat: {steady.CpuSecondsPerHostMinute / scale * hostCount * scale:0.00} CPU s/min for {hostCount * scale:N0} hosts " +
            $"({steady.CpuSecondsPerHostMinute / scale * 1e6:N0} CPU µs per host per minute)");
        output.WriteLine($"steady at a 60 s heartbeat, per host per day (this run's rate spread over {hostCount * scale:N0} hosts): " +
            $"{steady.AllRowsPerHostDay / scale:N0} rows written ({steady.HostRowsPerHostDay / scale:N0} of them in the host tables), " +
            $"{steady.WalBytesPerHostDay / scale / 1024:N0} KB of WAL");
        var byTable = tablesAfter.Select(t => (Table: t.Key, Rows: t.Value - tablesBefore.GetValueOrDefault(t.Key))).Where(t => t.Rows > 0)
            .OrderByDescending(t => t.Rows).Take(8)
            .Select(t => $"{t.Table} {t.Rows / steady.Seconds * 86400 / (hostCount * scale):N0}");
        output.WriteLine($"  of them, by table: {string.Join(", ", byTable)}");
        output.WriteLine($"server memory per host: {residentPerHost / 1024:N1} KiB (resident after the steady phase minus before any host, / {hostCount:N0})");
        // What a million hosts would ask of one machine, from this run's per-host figures: estimates, not a run.
        var cpuPerHostMinute = steady.CpuSecondsPerHostMinute / scale;
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        output.WriteLine($"estimated ceiling of one server at a 60 s heartbeat: {Environment.ProcessorCount * 60 / cpuPerHostMinute:N0} hosts by CPU " +
            $"(all {Environment.ProcessorCount} cores for the server process; PostgreSQL and agents elsewhere), " +
            $"{memory * 0.75 / residentPerHost:N0} by memory (three quarters of {memory / (1L << 30):N0} GiB)");
        output.WriteLine($"estimated PostgreSQL load of 1,000,000 hosts: {steady.AllRowsPerHostDay / scale * 1e6 / 86400:N0} rows/s, " +
            $"{steady.WalBytesPerHostDay / scale * 1e6 / 86400 / (1 << 20):N1} MiB/s of WAL");
        output.WriteLine("rows and bytes per host per day extrapolate each phase's rate (a fault phase's rate is not a day's); pg_stat counters lag up to a few seconds.");
        // Push-back in the storm is answered, not failed: the server's own error lines are worth a look when there are any.
        var errorLines = server.LogLines("fail:");
        output.WriteLine($"server log, whole run (three processes): {errorLines.Count} lines at error level{(errorLines.Count > 0 ? $", the first: {errorLines[0]}" : "")}");
        output.WriteLine();

        var passed = await FleetCheck.RunAsync(output, server, catalog, hosts);
        var unexpected = phases.Sum(p => p.Phase.UnexpectedResyncs);
        var wrongFaults = phases.Sum(p => p.Phase.FaultsAnsweredWrong);
        var errors = phases.Sum(p => p.Phase.Errors);
        output.WriteLine($"check: faults answered as they must ({wrongFaults} wrong), unexpected RESYNCs {unexpected}, errors {errors}: " +
            $"{(wrongFaults == 0 && unexpected == 0 && errors == 0 ? "PASS" : "FAIL")}");
        foreach (var problem in phases.SelectMany(p => p.Phase.Problems.Select(text => $"{p.Phase.Name}: {text}")).Take(15)) output.WriteLine($"  {problem}");
        foreach (var (phase, _) in phases.Where(p => !p.Phase.UnavailableReasons.IsEmpty))
        {
            output.WriteLine($"  {phase.Name}, unavailable (retried): {string.Join("; ", phase.UnavailableReasons.OrderByDescending(r => r.Value).Select(r => $"{r.Value:N0} × {r.Key}"))}");
        }
        if (server.Problems is { Length: > 0 } logged) output.WriteLine($"server errors logged:\n{string.Join('\n', logged.Split('\n').Take(20))}");
        foreach (var channel in channels) channel.Dispose();
        passed &= wrongFaults == 0 && unexpected == 0 && errors == 0;
        output.WriteLine(passed ? "PASS" : "FAIL");
        return passed ? 0 : 1;
    }

    private static List<FleetHost> Pick(List<FleetHost> hosts, Random random, int count) =>
        [.. hosts.Where(h => h.Fault == FleetFault.None).OrderBy(_ => random.Next()).Take(Math.Max(1, count))];

    /// <summary>How long every host may take to get its snapshot in: 10 minutes, or longer for fleets past 60,000 (about 100 snapshots a second).</summary>
    private static TimeSpan SettleTimeout(int hostCount) => TimeSpan.FromSeconds(Math.Max(600, hostCount / 100));

    private static async Task WaitUntilAsync(TextWriter output, FleetDriver driver, Func<bool> condition, TimeSpan timeout)
    {
        var started = DateTime.UtcNow;
        var said = started;
        while (!condition())
        {
            var phase = driver.Phase;
            if (DateTime.UtcNow - said > TimeSpan.FromSeconds(10))
            {
                said = DateTime.UtcNow;
                output.WriteLine($"  {(said - started).TotalSeconds:0} s: {phase.Accepted():N0} reports accepted, {phase.RetryAfters:N0} retry-after, " +
                    $"{phase.Unavailable:N0} unavailable, {phase.Errors:N0} errors{(phase.Problems.TryPeek(out var problem) ? $"; {problem}" : "")}");
            }

            if (DateTime.UtcNow - started > timeout) throw new TimeoutException($"the fleet did not settle within {timeout}");
            await Task.Delay(250);
        }
    }
}
