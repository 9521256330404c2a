using System.Diagnostics;
using Grpc.Net.Client;
using Npgsql;
using NpgsqlTypes;
using PortHistory.Contracts.V1;

namespace PortHistory.Benchmarks;

/// <summary>
/// Usage rows in bulk: through LoadUsageHistory (the requests built before the clock starts, each under the gateway's
/// 64 KiB message limit, one call per group of whole ports), and the same rows by binary COPY into a plain table.
/// </summary>
internal static class UsageBulkLoad
{
    /// <summary>Rows per LoadUsageHistory call at most (the server takes up to 1,000,000).</summary>
    public const int RowsPerLoad = 500_000;

    private const int MessageBytes = 60_000;

    public sealed record Outcome(long Rows, int Calls, TimeSpan Elapsed)
    {
        public double RowsPerSecond => Rows / Elapsed.TotalSeconds;
    }

    /// <summary>Series grouped into loads of whole ports: a port's total is made from the processes of one load.</summary>
    public static List<List<UsageSeriesLevels>> Groups(IEnumerable<UsageSeriesLevels> series)
    {
        var groups = new List<List<UsageSeriesLevels>> { new() };
        var rows = 0;
        foreach (var port in series.GroupBy(s => (s.Port, s.Transport)))
        {
            var portRows = port.Sum(s => s.Days);
            if (rows > 0 && rows + portRows > RowsPerLoad)
            {
                groups.Add([]);
                rows = 0;
            }

            groups[^1].AddRange(port);
            rows += portRows;
        }

        return groups;
    }

    public static async Task<Outcome> LoadAsync(GrpcChannel channel, IReadOnlyList<List<UsageSeriesLevels>> groups, TextWriter progress)
    {
        var client = new Usage.UsageClient(channel);
        var elapsed = TimeSpan.Zero;
        long rows = 0;
        foreach (var group in groups)
        {
            var requests = Requests(group, $"synthetic fleet, {group.Count} series");
            var clock = Stopwatch.StartNew();
            using var call = client.LoadUsageHistory(deadline: DateTime.UtcNow.AddMinutes(10));
            foreach (var request in requests) await call.RequestStream.WriteAsync(request);
            await call.RequestStream.CompleteAsync();
            var answer = await call;
            elapsed += clock.Elapsed;
            rows += (long)answer.Rows;
            progress.WriteLine($"  loaded {answer.Rows:N0} rows ({answer.Series:N0} series, {answer.FirstDay} to {answer.LastDay}) in {clock.Elapsed.TotalSeconds:0.0} s");
        }

        return new Outcome(rows, groups.Count, elapsed);
    }

    /// <summary>The same rows (day, port, transport, process, executable, hosts, reachable) by binary COPY into a table without keys.</summary>
    public static async Task<Outcome> CopyAsync(string connectionString, IReadOnlyList<List<UsageSeriesLevels>> groups)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand("""
            CREATE TABLE usage_rows_copied (day date NOT NULL, port integer NOT NULL, transport smallint NOT NULL, process_name text NOT NULL,
                executable text NOT NULL, hosts integer NOT NULL, reachable integer NOT NULL)
            """, connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        long rows = 0;
        var clock = Stopwatch.StartNew();
        foreach (var group in groups)
        {
            await using var copy = await connection.BeginBinaryImportAsync(
                "COPY usage_rows_copied (day, port, transport, process_name, executable, hosts, reachable) FROM STDIN (FORMAT BINARY)");
            foreach (var series in group)
            {
                for (var d = 0; d < series.Days; d++)
                {
                    await copy.StartRowAsync();
                    await copy.WriteAsync(series.First.AddDays(d), NpgsqlDbType.Date);
                    await copy.WriteAsync(series.Port, NpgsqlDbType.Integer);
                    await copy.WriteAsync((short)series.Transport, NpgsqlDbType.Smallint);
                    await copy.WriteAsync(series.ProcessName, NpgsqlDbType.Text);
                    await copy.WriteAsync(series.Executable, NpgsqlDbType.Text);
                    await copy.WriteAsync(series.Hosts[d], NpgsqlDbType.Integer);
                    await copy.WriteAsync(series.Reachable[d], NpgsqlDbType.Integer);
                    rows++;
                }
            }

            await copy.CompleteAsync();
        }

        var elapsed = clock.Elapsed;
        // A baseline only: left in place, autovacuum would work through its millions of rows while the queries are timed.
        await using (var drop = new NpgsqlCommand("DROP TABLE usage_rows_copied", connection)) await drop.ExecuteNonQueryAsync();
        return new Outcome(rows, groups.Count, elapsed);
    }

    private static List<LoadUsageHistoryRequest> Requests(List<UsageSeriesLevels> group, string source)
    {
        var requests = new List<LoadUsageHistoryRequest>();
        var request = new LoadUsageHistoryRequest { Source = source };
        var bytes = 0;
        var dayTexts = new Dictionary<DateOnly, string>();
        foreach (var series in group)
        {
            for (var d = 0; d < series.Days; d++)
            {
                var day = series.First.AddDays(d);
                if (!dayTexts.TryGetValue(day, out var text)) dayTexts[day] = text = day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
                var row = new UsageRow
                {
                    Day = text, Port = (uint)series.Port, Transport = series.Transport, ProcessName = series.ProcessName, Executable = series.Executable,
                    Hosts = (uint)series.Hosts[d], Reachable = (uint)series.Reachable[d],
                };
                var size = row.CalculateSize() + 4;
                if (bytes + size > MessageBytes)
                {
                    requests.Add(request);
                    request = new LoadUsageHistoryRequest();
                    bytes = 0;
                }

                request.Rows.Add(row);
                bytes += size;
            }
        }

        if (request.Rows.Count > 0) requests.Add(request);
        return requests;
    }
}
