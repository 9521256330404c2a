using System.Diagnostics;
using Google.Type;
using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Benchmarks;

/// <summary>
/// A long weekly history (<see cref="WeeklyEditions"/>: consecutive XML versions derived from the real editions)
/// imported into an empty database through a real server, one generation per version as the follower and
/// `import --git` do: editions per second, what the database holds per edition against the file's size, and the
/// time of timeline and as-of answers after the 16th version and after the last.
/// </summary>
internal static class HistoryBenchmark
{
    private const int EarlyCheckpoint = 16;
    private const int QueryRounds = 300;

    /// <summary>The port whose timeline is read: compressnet, de-assigned in the last real difference.</summary>
    private const uint TimelinePort = 2;

    public static async Task RunAsync(TextWriter output, int count)
    {
        output.WriteLine($"PortHistory history benchmark: {count} weekly XML versions ({WeeklyEditions.DifferenceCount()} real record differences " +
                         $"spread over them), {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        output.WriteLine();

        await using var postgres = await PostgresServer.StartAsync();
        var connectionString = postgres.ConnectionString("history");
        await using var server = new ServerProcess(connectionString);
        await server.StartAsync();
        // Generated before the clock starts, as files on disk: what is measured is the import.
        var directory = Directory.CreateTempSubdirectory("porthistory-weekly-").FullName;
        var versions = new List<(WeeklyEdition Edition, string Path)>();
        foreach (var edition in WeeklyEditions.Generate(count))
        {
            var path = Path.Combine(directory, $"service-names-port-numbers_{edition.Updated:yyyy-MM-dd}.xml");
            await File.WriteAllBytesAsync(path, edition.Bytes);
            versions.Add((edition with { Bytes = [] }, path));
        }

        var perEdition = new List<double>();
        var fileBytes = new List<long>();
        var checkpoints = new List<Checkpoint>();
        var total = Stopwatch.StartNew();
        try
        {
            foreach (var (edition, file) in versions)
            {
                var clock = Stopwatch.StartNew();
                var progress = await EditionUpload.ImportAsync(server.Channel, file);
                perEdition.Add(clock.Elapsed.TotalMilliseconds);
                fileBytes.Add(new FileInfo(file).Length);
                if (progress[^1].Stage is not (ImportStage.Committed or ImportStage.AlreadyImported))
                {
                    throw new InvalidOperationException($"version {edition.Index} ended {progress[^1].Stage}: {progress[^1].Message}");
                }

                var imported = edition.Index + 1;
                if (imported % 25 == 0 || imported == count)
                {
                    output.WriteLine($"  {imported} versions in {total.Elapsed.TotalSeconds:0.0}s, the last 25 at {Median(perEdition.TakeLast(25)):0} ms each (median)");
                }

                if (imported == EarlyCheckpoint || imported == count)
                {
                    checkpoints.Add(await MeasureAsync(server, connectionString, imported, edition.Updated));
                }
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        var elapsed = total.Elapsed;
        output.WriteLine($"  where a version's time goes in the server (median over the versions, ms): {Phases([.. server.LogLines("Received "), .. server.LogLines("Committed generation")])}; " +
                         $"the rest of the {Median(perEdition):0} ms is reading and sending the file, and the waits between the steps");

        // The paths that are not appends: a restarted server reads the history back from the query index for its next
        // version; an edition older than every other cuts the history back to nothing and derives it again from the originals.
        await server.KillAsync();
        await server.StartAsync();
        var next = versions[^1].Edition.Updated.AddDays(7);
        var redated = Path.Combine(Path.GetTempPath(), $"porthistory-next-{Guid.NewGuid():N}.xml");
        await File.WriteAllTextAsync(redated, (await File.ReadAllTextAsync(RegistryData.PathOf(WeeklyEditions.Anchors[^1])))
            .Replace("<updated>2026-08-17</updated>", $"<updated>{next:yyyy-MM-dd}</updated>", StringComparison.Ordinal));
        var coldClock = Stopwatch.StartNew();
        await EditionUpload.ImportAsync(server.Channel, redated);
        var afterRestart = coldClock.Elapsed;
        File.Delete(redated);
        coldClock.Restart();
        await EditionUpload.ImportAsync(server.Channel, RegistryData.PathOf("port-numbers_2008-02-29.txt"));
        var olderThanAll = coldClock.Elapsed;

        // Where an import's time goes, as the server logs it.
        foreach (var line in server.Log.Split('\n').Where(l => l.Contains("Committed generation", StringComparison.Ordinal)).TakeLast(3))
        {
            output.WriteLine($"  server: {line.Trim()}");
        }

        output.WriteLine();
        var import = new Table("import", "value", "target");
        import.Add("versions imported", count, "");
        import.Add("total time (s)", elapsed.TotalSeconds, "< 120 for 250");
        import.Add("editions per second", count / elapsed.TotalSeconds, "");
        import.Add("ms per edition, first 25 (median)", Median(perEdition.Take(25)), "");
        import.Add("ms per edition, last 25 (median)", Median(perEdition.TakeLast(25)), "");
        import.Add("mean file size (bytes)", (long)fileBytes.Average(), "");
        import.Add($"next version after a restart (history read back from the index, {count} editions) (s)", afterRestart.TotalSeconds, "");
        import.Add($"an edition older than all {count + 1} (history derived again from the originals) (s)", olderThanAll.TotalSeconds, "");
        import.WriteTo(output);
        output.WriteLine();

        var early = checkpoints[0];
        var late = checkpoints[^1];
        var growth = late.DatabaseBytes - early.DatabaseBytes;
        var storage = new Table("storage", $"after {early.Editions}", $"after {late.Editions}", "per edition between");
        storage.Add("database bytes (pg_database_size)", early.DatabaseBytes, late.DatabaseBytes, PerEdition(growth));
        foreach (var table in late.Tables.Keys)
        {
            var before = early.Tables.GetValueOrDefault(table);
            storage.Add($"  {table}", before, late.Tables[table], PerEdition(late.Tables[table] - before));
        }

        foreach (var rows in late.Rows.Keys)
        {
            var before = early.Rows.GetValueOrDefault(rows);
            storage.Add($"  rows in {rows}", before, late.Rows[rows], PerEdition(late.Rows[rows] - before));
        }

        storage.WriteTo(output);
        output.WriteLine($"database growth per edition: {PerEdition(growth)} bytes, {(double)growth / (late.Editions - early.Editions) / fileBytes.Average():P2} of the mean file size");
        output.WriteLine();

        var queries = new Table("query (median of " + QueryRounds + ")", $"{early.Editions} editions ms", $"{late.Editions} editions ms", "ratio");
        foreach (var name in late.Queries.Keys)
        {
            queries.Add(name, early.Queries[name], late.Queries[name], $"{late.Queries[name] / early.Queries[name]:0.00}");
        }

        queries.WriteTo(output);

        string PerEdition(long bytes) => late.Editions == early.Editions ? "" : (bytes / (late.Editions - early.Editions)).ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
    }

    private sealed record Checkpoint(int Editions, long DatabaseBytes, Dictionary<string, long> Tables, Dictionary<string, long> Rows, Dictionary<string, double> Queries);

    /// <summary>The medians of the phases the server's "Received" and "Committed generation" lines time.</summary>
    private static string Phases(IReadOnlyList<string> committed)
    {
        var phases = new[] { "parse", "store", "history", "projection", "staging", "commit" };
        var times = phases.ToDictionary(p => p, _ => new List<double>());
        foreach (var line in committed)
        {
            foreach (var phase in phases)
            {
                var match = System.Text.RegularExpressions.Regex.Match(line, $@"\b{phase} ([0-9.]+)s");
                if (match.Success) times[phase].Add(double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) * 1000);
            }
        }

        return string.Join(", ", phases.Where(p => times[p].Count > 0).Select(p => $"{p} {Median(times[p]):0}"));
    }

    private static async Task<Checkpoint> MeasureAsync(ServerProcess server, string connectionString, int editions, DateOnly newest)
    {
        var client = new PortRegistry.PortRegistryClient(server.Channel);
        var middle = newest.AddDays(-7 * (editions / 2));
        var asOf = new Date { Year = middle.Year, Month = middle.Month, Day = middle.Day };
        var queries = new Dictionary<string, double>
        {
            [$"timeline {TimelinePort}"] = await TimeAsync(async () => await client.GetTimelineAsync(new GetTimelineRequest { Port = TimelinePort })),
            ["port 80 as of the middle edition"] = await TimeAsync(async () => await client.GetPortAsync(new GetPortRequest { Port = 80, AsOf = asOf })),
            ["port 80, newest"] = await TimeAsync(async () => await client.GetPortAsync(new GetPortRequest { Port = 80 })),
            ["list ports 0-1023 as of the middle"] = await TimeAsync(async () =>
            {
                using var call = client.ListPorts(new ListPortsRequest { Range = new PortRange { First = 0, Last = 1023 }, AsOf = asOf });
                while (await call.ResponseStream.MoveNext(CancellationToken.None))
                {
                }
            }, rounds: 30),
        };

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var tables = new Dictionary<string, long>();
        await using (var command = new NpgsqlCommand("""
            SELECT relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND n.nspname = 'public' AND pg_total_relation_size(c.oid) > 65536 ORDER BY relname
            """, connection))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) tables[reader.GetString(0)] = reader.GetInt64(1);
        }

        var rows = new Dictionary<string, long>();
        foreach (var table in new[] { "index_versions", "index_name_only", "index_holdings", "orleansstorage" })
        {
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
            rows[table] = (long)(await count.ExecuteScalarAsync())!;
        }

        await using var size = new NpgsqlCommand("SELECT pg_database_size(current_database())", connection);
        return new Checkpoint(editions, (long)(await size.ExecuteScalarAsync())!, tables, rows, queries);
    }

    private static async Task<double> TimeAsync(Func<Task> call, int rounds = QueryRounds)
    {
        for (var i = 0; i < 10; i++) await call();
        var times = new List<double>(rounds);
        for (var i = 0; i < rounds; i++)
        {
            var clock = Stopwatch.StartNew();
            await call();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }

        return Median(times);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted[sorted.Count / 2];
    }
}
