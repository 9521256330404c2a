using System.Diagnostics;
using System.Globalization;
using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Usage;
using PortHistory.Server.Persistence.Usage;
using PortHistory.Testing;

namespace PortHistory.Benchmarks;

/// <summary>
/// The usage history on a synthetic fleet: <see cref="UsageFleetHistory.Hosts"/> hosts and 10,000 distinct (port,
/// transport, process) a day, loaded through LoadUsageHistory for <c>years</c> up to yesterday, and one busy port
/// (443/tcp, processes coming and going) for ten years. Storage per day against the full-report and the differential
/// streams it summarises; GetUsageHistory over ten years against the bare echo; closing a day; bulk load against COPY.
/// </summary>
internal static class UsageBenchmark
{
    private const int Pairs = 10_000;
    private const int QueryPort = 443;
    private const int QueryPortProcesses = 24;
    private const int HistoryDays = 3652;
    private const int ClosedDays = 5;
    private static readonly TimeSpan QuerySeconds = TimeSpan.FromSeconds(8);

    public static async Task RunAsync(TextWriter output, int years)
    {
        var last = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-1);
        var sliceDays = years * 365;
        var sliceFirst = last.AddDays(1 - sliceDays);
        var historyFirst = last.AddDays(1 - HistoryDays);
        var generation = Stopwatch.StartNew();
        var (fleet, changes) = UsageFleetHistory.Levels(UsageFleetHistory.FleetSlots(Pairs, sliceDays, QueryPort), sliceFirst, sliceDays);
        var (busyPort, _) = UsageFleetHistory.Levels(UsageFleetHistory.PortSlots(QueryPort, QueryPortProcesses, HistoryDays, Pairs), historyFirst, HistoryDays);
        var fleetGroups = UsageBulkLoad.Groups(fleet);
        var fleetRows = fleet.Sum(s => (long)s.Days);
        // Host-sockets a day: what every host's full report lists, added up over the fleet.
        var hostSockets = fleet.Sum(s => s.Hosts.Sum(h => (long)h)) / (double)sliceDays;
        var changesPerDay = changes.Skip(1).Average();
        output.WriteLine($"PortHistory usage benchmark: {UsageFleetHistory.Hosts:N0} hosts, {Pairs:N0} (port, transport, process) a day for {sliceDays} days " +
                         $"({sliceFirst:yyyy-MM-dd} to {last:yyyy-MM-dd}; {fleetRows:N0} rows, {fleet.Count:N0} series, {hostSockets / UsageFleetHistory.Hosts:0.0} sockets " +
                         $"per host, {changesPerDay:N0} host starts and stops a day), {QueryPort}/tcp with {QueryPortProcesses} processes over {HistoryDays} days " +
                         $"({busyPort.Sum(s => s.Days):N0} rows); generated in {generation.Elapsed.TotalSeconds:0.0} s; {Environment.ProcessorCount} cores, .NET {Environment.Version}");

        await using var postgres = await PostgresServer.StartAsync();
        var connectionString = postgres.ConnectionString("usage");
        await using var server = new ServerProcess(connectionString);
        await server.StartAsync();
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var maintenance = new UsageMaintenance(dataSource);
        // Held for the whole run: the server's own upkeep neither closes days nor makes partitions meanwhile.
        await using var upkeep = await HoldUpkeepAsync(maintenance);
        var partitions = await maintenance.EnsurePartitionsAsync(historyFirst, last, CancellationToken.None);
        var (sightingRow, changeRow) = await UsageStorage.RowBytesAsync(connectionString);
        output.WriteLine($"  {partitions} monthly partitions made; a sighting journal row {sightingRow:0} bytes, a listener change row {changeRow:0} bytes (with their indexes)");

        var load = await UsageBulkLoad.LoadAsync(server.Channel, fleetGroups, output);
        var stored = await UsageStorage.MeasureAsync(connectionString);
        await UsageBulkLoad.LoadAsync(server.Channel, UsageBulkLoad.Groups(busyPort), output);
        var copy = await UsageBulkLoad.CopyAsync(connectionString, fleetGroups);
        output.WriteLine($"  COPY of the same {copy.Rows:N0} rows in {copy.Elapsed.TotalSeconds:0.0} s");

        var closes = new List<double>();
        for (var day = last.AddDays(1 - ClosedDays); day <= last; day = day.AddDays(1))
        {
            var clock = Stopwatch.StartNew();
            await maintenance.CloseDayAsync(day, UsageDayCloser.RecheckDays, DateTime.UtcNow, CancellationToken.None);
            closes.Add(clock.Elapsed.TotalMilliseconds);
        }

        output.WriteLine($"  days closed: {string.Join(", ", closes.Select(c => c.ToString("0", CultureInfo.InvariantCulture)))} ms");
        // Ten years of history accumulate over ten years, long vacuumed and analysed by the time anyone asks: settled
        // here rather than timing queries beside autovacuum working through what was just loaded.
        var settle = Stopwatch.StartNew();
        await UsageStorage.SettleAsync(connectionString);
        output.WriteLine($"  usage tables vacuumed and analysed in {settle.Elapsed.TotalSeconds:0.0} s");

        var (daily, columns, monthly, echo, echoLarge) = await QueryAsync(server, Text(historyFirst), Text(last));
        // The same answer in this process, in two halves: the store's one round trip, and building the series from its rows.
        // Prepared statements as the server's data source has them (PersistenceExtensions).
        await using var preparing = new NpgsqlDataSourceBuilder(connectionString) { ConnectionStringBuilder = { MaxAutoPrepare = 32 } }.Build();
        var store = new UsageStore(preparing);
        var read = await UsageQueryLoop.RunAsync(async () => (await store.ReadAsync(QueryPort, Transport.Tcp, historyFirst, last, CancellationToken.None)).Days.Count, QuerySeconds);
        var rows = await store.ReadAsync(QueryPort, Transport.Tcp, historyFirst, last, CancellationToken.None);
        var query = new UsageQuery(QueryPort, Transport.Tcp, historyFirst, last, UsageGranularity.Day, 5, Admin: true);
        var build = await UsageQueryLoop.RunAsync(() => Task.FromResult(UsageHistoryBuilder.Build(query, rows, 3).CalculateSize()), QuerySeconds);
        var buildColumns = await UsageQueryLoop.RunAsync(() => Task.FromResult(UsageHistoryBuilder.Build(query with { Columns = true }, rows, 3).CalculateSize()), QuerySeconds);

        var perDay = (double)stored.Total / sliceDays;
        var fullReports = hostSockets * 1440 * sightingRow;
        var differential = changesPerDay * changeRow;
        output.WriteLine();
        var table = new Table("measure", "value", "baseline", "baseline value", "ratio", "goal");
        table.Add("usage tables, bytes per day", N(perDay), "full reports every 60 s: host-sockets × 1440 × sighting row", N(fullReports), $"{fullReports / perDay:N0}:1", "≥ 10,000:1");
        table.Add("usage tables, bytes per day", N(perDay), "listener changes: host starts and stops × change row", N(differential), $"{differential / perDay:0.0}:1", "");
        table.Add($"  usage_days ({stored.DayRows:N0} rows)", N(stored.Days / (double)sliceDays), "", "", "", "");
        table.Add($"  usage_months ({stored.MonthRows:N0} rows)", N(stored.Months / (double)sliceDays), "", "", "", "");
        table.Add("  usage_lifetimes", N(stored.Lifetimes / (double)sliceDays), "", "", "", "");
        table.Add("usage tables for 10 years at this rate (MB)", N(perDay * HistoryDays / 1e6), "", "", "", "");
        table.Add($"GetUsageHistory {QueryPort}/tcp, 10 years by day, p50 ms ({daily.ResponseBytes:N0} B)", daily.P50, "echo, request-sized, p50 ms", $"{echo.P50:0.00}", $"{daily.P50 / echo.P50:N0}", "");
        table.Add("  p99 ms", daily.P99, "echo, request-sized, p99 ms", $"{echo.P99:0.00}", $"{daily.P99 / echo.P99:N0}", "< 50");
        table.Add("  calls per second, one at a time", daily.CallsPerSecond, $"echo of {echoLarge.ResponseBytes:N0} B, p50 / p99 ms", $"{echoLarge.P50:0.0} / {echoLarge.P99:0.0}", "", "");
        table.Add($"  in process: UsageStore.ReadAsync ({rows.Months.Count:N0} month, {rows.Days.Count:N0} day rows), p50 / p99 ms", $"{read.P50:0.0} / {read.P99:0.0}", "", "", "", "");
        table.Add("  in process: UsageHistoryBuilder.Build, p50 / p99 ms", $"{build.P50:0.0} / {build.P99:0.0}", "", "", "", "");
        table.Add($"GetUsageHistory {QueryPort}/tcp, 10 years by day in columns, p50 ms ({columns.ResponseBytes:N0} B)", columns.P50, "echo, request-sized, p50 ms", $"{echo.P50:0.00}", $"{columns.P50 / echo.P50:N0}", "");
        table.Add("  p99 ms", columns.P99, "echo, request-sized, p99 ms", $"{echo.P99:0.00}", $"{columns.P99 / echo.P99:N0}", "< 50");
        table.Add("  in process: UsageHistoryBuilder.Build in columns, p50 / p99 ms", $"{buildColumns.P50:0.0} / {buildColumns.P99:0.0}", "", "", "", "");
        table.Add($"GetUsageHistory {QueryPort}/tcp, 10 years by month, p50 ms ({monthly.ResponseBytes:N0} B)", monthly.P50, "echo, request-sized, p50 ms", $"{echo.P50:0.00}", $"{monthly.P50 / echo.P50:N0}", "");
        table.Add("  p99 ms", monthly.P99, "echo, request-sized, p99 ms", $"{echo.P99:0.00}", $"{monthly.P99 / echo.P99:N0}", "< 50");
        table.Add($"CloseDayAsync, median of the last {ClosedDays} days, ms", Median(closes), "slowest of them, ms", closes.Max(), "", "");
        table.Add($"bulk load, rows/s ({load.Calls} LoadUsageHistory calls)", N(load.RowsPerSecond), "COPY into a plain table, rows/s", N(copy.RowsPerSecond), $"{load.RowsPerSecond / copy.RowsPerSecond:0.00}", "");
        table.WriteTo(output);
        foreach (var (name, outcome) in new[] { ("by day", daily), ("by day in columns", columns), ("by month", monthly), ("echo", echo), ("large echo", echoLarge) }.Where(o => o.Item2.Stalled > 0))
        {
            output.WriteLine($"  {name}: {outcome.Stalled} calls without an answer in 10 s, left out of the latencies");
        }

        if (server.Problems.Length > 0) output.WriteLine($"server problems:\n{server.Problems}");
    }

    private static async Task<(UsageQueryLoop.Outcome Daily, UsageQueryLoop.Outcome Columns, UsageQueryLoop.Outcome Monthly, UsageQueryLoop.Outcome Echo, UsageQueryLoop.Outcome EchoLarge)> QueryAsync(
        ServerProcess server, string from, string to)
    {
        var request = new GetUsageHistoryRequest { Port = QueryPort, Transport = Transport.Tcp, From = from, To = to, Granularity = UsageGranularity.Day };
        var daily = await UsageQueryLoop.UsageAsync(server.Channel, request, QuerySeconds);
        var columns = await UsageQueryLoop.UsageAsync(server.Channel, request.Clone().Also(r => r.Columns = true), QuerySeconds);
        var monthly = await UsageQueryLoop.UsageAsync(server.Channel, request.Clone().Also(r => r.Granularity = UsageGranularity.Month), QuerySeconds);
        var echoPort = PostgresServer.FreePort();
        using var echoProcess = ServerBenchmark.StartEcho(echoPort);
        try
        {
            await ServerBenchmark.WaitForPortAsync(echoPort);
            var echo = await UsageQueryLoop.EchoAsync(echoPort, request.CalculateSize(), QuerySeconds);
            var echoLarge = await UsageQueryLoop.EchoAsync(echoPort, daily.ResponseBytes, QuerySeconds);
            return (daily, columns, monthly, echo, echoLarge);
        }
        finally
        {
            echoProcess.Kill();
            await echoProcess.WaitForExitAsync();
        }
    }

    private static async Task<IAsyncDisposable> HoldUpkeepAsync(UsageMaintenance maintenance)
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            if (await maintenance.TryLockAsync(CancellationToken.None) is { } held) return held;
            await Task.Delay(100);
        }

        throw new TimeoutException("the server's usage upkeep kept its lock");
    }

    private static T Also<T>(this T value, Action<T> change)
    {
        change(value);
        return value;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static string N(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Text(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
