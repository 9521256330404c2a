// Over 250 lines: one benchmark run in the order its phases depend on (baselines, ingest, the table).
using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Google.Protobuf.WellKnownTypes;
using Npgsql;
using NpgsqlTypes;
using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Benchmarks;

/// <summary>
/// Sustained ingest of acknowledged, durable sightings: 32 concurrent agents, batches of 500, ports drawn from a
/// Zipf-like distribution, next to raw PostgreSQL COPY of the same rows and single-row INSERT transactions, measured
/// in the same run against the same PostgreSQL.
/// </summary>
internal static class IngestBenchmark
{
    private const int Agents = 32;
    private const int BatchSize = 500;

    /// <param name="previousServer">
    /// The server assembly of an earlier build, measured in the same run for comparison: the two builds alternate
    /// (earlier, this, this, earlier), each on a database of its own, so that a drift of the machine or of PostgreSQL
    /// during the run weighs on both alike.
    /// </param>
    public static async Task RunAsync(TextWriter output, int seconds, string? previousServer = null)
    {
        output.WriteLine($"PortHistory ingest benchmark: {Environment.ProcessorCount} cores, {Agents} agents x batches of {BatchSize}, {seconds}s per run");
        output.WriteLine();
        await using var postgres = await PostgresServer.StartAsync();
        var zipf = new Zipf(65536, 1.0, seed: 7);
        var table = new Table("method", "rows/s", "p50 ms", "p99 ms", "vs single-row INSERT");

        var order = previousServer is null ? new[] { (string?)null } : [previousServer, null, null, previousServer];
        var ours = new List<Result>();
        var previous = new List<Result>();
        for (var round = 0; round < order.Length; round++)
        {
            var result = await BuildAsync(postgres, order[round], $"ingest_{round}", zipf, seconds);
            (order[round] is null ? ours : previous).Add(result);
            output.WriteLine($"round {round + 1}: {(order[round] is null ? "this build" : "previous build")} {result.RowsPerSecond:N0} sightings/s{(result.RetryAfters > 0 ? $", {result.RetryAfters:N0} batches answered retry-after" : "")}");
        }

        var single = await SingleRowInsertsAsync(postgres.ConnectionString("ingest_0"), zipf, seconds);
        var copyWriters = await CopyAsync(postgres.ConnectionString("ingest_0"), zipf, seconds, Agents);
        output.WriteLine();

        table.Add($"single-row INSERT transactions ({Agents} connections)", single.RowsPerSecond, single.P50, single.P99, "1.0x");
        table.Add($"raw COPY, {Agents} writers x {BatchSize}-row transactions", copyWriters.RowsPerSecond, copyWriters.P50, copyWriters.P99,
            $"{copyWriters.RowsPerSecond / single.RowsPerSecond:0.0}x");
        var mine = Mean(ours);
        table.Add($"PortHistory ReportBatch, acknowledged ({Agents} agents)", mine.RowsPerSecond, mine.P50, mine.P99, $"{mine.RowsPerSecond / single.RowsPerSecond:0.0}x");
        if (previous.Count > 0)
        {
            var theirs = Mean(previous);
            table.Add("the same, previous build", theirs.RowsPerSecond, theirs.P50, theirs.P99, $"{theirs.RowsPerSecond / single.RowsPerSecond:0.0}x");
        }

        table.WriteTo(output);
        output.WriteLine();
        output.WriteLine($"targets: PortHistory >= 100,000 sightings/s and >= 6x single-row INSERT; p99 acknowledgement latency reported above");
    }

    /// <param name="RetryAfters">Batches the server answered with a time to come back (sent again then; their wait is in the latency).</param>
    internal sealed record Result(double RowsPerSecond, double P50, double P99, long RetryAfters = 0);

    /// <summary>A build of the server (this one when <paramref name="assembly"/> is null) on a database of its own.</summary>
    private static async Task<Result> BuildAsync(PostgresServer postgres, string? assembly, string database, Zipf zipf, int seconds)
    {
        await using var server = new ServerProcess(postgres.ConnectionString(database), Settings, serverAssembly: assembly);
        await server.StartAsync();
        using var agentChannel = await PrepareAsync(server);
        var result = await ReportAsync(agentChannel, zipf, seconds);
        await server.StopAsync();
        return result;
    }

    private static Result Mean(IReadOnlyList<Result> results) =>
        new(results.Average(r => r.RowsPerSecond), results.Average(r => r.P50), results.Average(r => r.P99), results.Sum(r => r.RetryAfters));

    /// <summary>An agent token, and every port grain active, as on a server that has been running.</summary>
    internal static async Task<Grpc.Net.Client.GrpcChannel> PrepareAsync(ServerProcess server)
    {
        var issued = await new AccessAdmin.AccessAdminClient(server.Channel).IssueTokenAsync(new IssueTokenRequest { Name = "bench agents", Role = Role.Agent });
        var registry = new PortRegistry.PortRegistryClient(server.Channel);
        await Parallel.ForEachAsync(Enumerable.Range(0, 65536), new ParallelOptions { MaxDegreeOfParallelism = 64 },
            async (port, _) => await registry.GetPortAsync(new GetPortRequest { Port = (uint)port }));
        return server.ChannelWith(() => issued.Token);
    }

    internal static readonly Dictionary<string, string> Settings = new()
    {
        ["PortHistory__RateLimit__SightingsPerSecond"] = "10000000",
        ["PortHistory__RateLimit__Burst"] = "10000000",
        // Production cadence for deliveries and checkpoints.
        ["PortHistory__Verdicts__CheckpointInterval"] = "00:01:00",
        ["PortHistory__Sightings__DispatchWindow"] = "00:00:02",
    };

    /// <param name="processes">How process names start: another prefix makes every process new (the watch benchmark's events).</param>
    internal static async Task<Result> ReportAsync(Grpc.Net.Client.GrpcChannel channel, Zipf zipf, int seconds, string processes = "proc")
    {
        var client = new Sightings.SightingsClient(channel);
        var latencies = new List<double>[Agents];
        long sightings = 0;
        // Five seconds of warm-up (JIT tiers, connection windows) before measuring.
        var stop = DateTime.UtcNow.AddSeconds(seconds + 5);
        var measureFrom = DateTime.UtcNow.AddSeconds(5);
        var measured = Stopwatch.StartNew();
        long measuredSightings = 0;
        long retryAfters = 0;
        await Task.WhenAll(Enumerable.Range(0, Agents).Select(async agent =>
        {
            latencies[agent] = [];
            var pool = Enumerable.Range(0, 8).Select(_ => BuildBatch(zipf, agent, processes)).ToList();
            var next = 0;
            while (DateTime.UtcNow < stop)
            {
                var batch = pool[next++ % pool.Count];
                batch.BatchId = Guid.NewGuid().ToString();
                var clock = Stopwatch.StartNew();
                BatchResult result;
                while (true)
                {
                    try
                    {
                        result = await client.ReportBatchAsync(batch);
                        break;
                    }
                    catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted && e.Trailers.GetValue("retry-after-ms") is { } ms)
                    {
                        // The server's push-back while it catches up with the hosts the batches name: as an agent does, come back then.
                        Interlocked.Increment(ref retryAfters);
                        await Task.Delay(TimeSpan.FromMilliseconds(double.Parse(ms, CultureInfo.InvariantCulture)));
                    }
                }

                var elapsed = clock.Elapsed.TotalMilliseconds;
                if (result.Accepted != BatchSize) throw new InvalidOperationException($"accepted {result.Accepted} of {BatchSize}: {result.Error}");
                Interlocked.Add(ref sightings, result.Accepted);
                if (DateTime.UtcNow < measureFrom) continue;
                if (Interlocked.Read(ref measuredSightings) == 0) lock (measured) measured.Restart();
                Interlocked.Add(ref measuredSightings, result.Accepted);
                latencies[agent].Add(elapsed);
            }
        }));
        var all = latencies.SelectMany(l => l).Order().ToList();
        return new Result(measuredSightings / measured.Elapsed.TotalSeconds, all[all.Count / 2], all[(int)(all.Count * 0.99)], retryAfters);
    }

    private static SightingBatch BuildBatch(Zipf zipf, int agent, string processes)
    {
        var batch = new SightingBatch();
        var now = DateTime.UtcNow;
        var random = new Random(agent);
        for (var i = 0; i < BatchSize; i++)
        {
            batch.Sightings.Add(new Sighting
            {
                HostRef = $"host-{agent:D2}-{random.Next(64):D2}",
                ObservedAt = Timestamp.FromDateTime(now.AddMilliseconds(-i)),
                Transport = random.Next(3) == 0 ? Transport.Udp : Transport.Tcp,
                LocalAddress = "0.0.0.0",
                Port = (uint)zipf.Next(),
                ProcessName = $"{processes}-{random.Next(20)}",
                Executable = "/usr/sbin/daemon",
                Pid = (uint)random.Next(1, 65000),
                User = "root",
                AgentPrivileged = true,
            });
        }

        return batch;
    }

    private static async Task<Result> CopyAsync(string connectionString, Zipf zipf, int seconds, int writers)
    {
        await using var dataSource = await TableLikeJournalAsync(connectionString, "bench_copy");
        var rows = BuildRows(zipf, BatchSize);
        long seq = 0;
        return await MeasureAsync(dataSource, writers, seconds, async (connection, _, _) =>
        {
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var copy = await connection.BeginBinaryImportAsync(
                             "COPY bench_copy (writer_id, seq, port, transport, host_hash, host_ref, observed_at, address_family, local_address, bind_scope, socket_state, process, executable, pid, username, privileged, container_id, network_namespace, batch_id) FROM STDIN (FORMAT BINARY)"))
            {
                var batch = Guid.NewGuid();
                foreach (var row in rows) await WriteAsync(copy, row, Interlocked.Increment(ref seq), batch);
                await copy.CompleteAsync();
            }

            await transaction.CommitAsync();
            return rows.Count;
        });
    }

    private static async Task<Result> SingleRowInsertsAsync(string connectionString, Zipf zipf, int seconds)
    {
        await using var dataSource = await TableLikeJournalAsync(connectionString, "bench_insert");
        var rows = BuildRows(zipf, 5000);
        long seq = 0;
        return await MeasureAsync(dataSource, Agents, seconds, async (connection, worker, step) =>
        {
            var row = rows[(worker + step) % rows.Count];
            await using var command = new NpgsqlCommand(
                "INSERT INTO bench_insert VALUES (@w, @s, @port, @t, @hh, @hr, @at, 1, '0.0.0.0', 1, 1, @p, @e, @pid, 'root', true, '', '', @b)", connection);
            command.Parameters.AddWithValue("w", 1);
            command.Parameters.AddWithValue("s", Interlocked.Increment(ref seq));
            command.Parameters.AddWithValue("port", row.Port);
            command.Parameters.AddWithValue("t", row.Transport);
            command.Parameters.AddWithValue("hh", row.HostHash);
            command.Parameters.AddWithValue("hr", row.HostRef);
            command.Parameters.AddWithValue("at", row.ObservedAt);
            command.Parameters.AddWithValue("p", row.Process);
            command.Parameters.AddWithValue("e", row.Executable);
            command.Parameters.AddWithValue("pid", row.Pid);
            command.Parameters.AddWithValue("b", Guid.NewGuid());
            await command.ExecuteNonQueryAsync();
            return 1;
        });
    }

    /// <summary>A fresh table with the journal's columns and indexes, so that baselines pay what the journal pays.</summary>
    private static async Task<NpgsqlDataSource> TableLikeJournalAsync(string connectionString, string table)
    {
        var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var create = dataSource.CreateCommand($"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (LIKE sighting_journal INCLUDING ALL)");
        await create.ExecuteNonQueryAsync();
        return dataSource;
    }

    /// <summary>Workers, each on its own connection, repeat a step (which returns the rows it wrote) until the time is up.</summary>
    private static async Task<Result> MeasureAsync(NpgsqlDataSource dataSource, int workers, int seconds, Func<NpgsqlConnection, int, int, Task<int>> step)
    {
        long total = 0;
        var latencies = new List<double>();
        var stop = DateTime.UtcNow.AddSeconds(seconds);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async worker =>
        {
            await using var connection = await dataSource.OpenConnectionAsync();
            for (var i = 0; DateTime.UtcNow < stop; i++)
            {
                var started = Stopwatch.StartNew();
                var rows = await step(connection, worker, i);
                Interlocked.Add(ref total, rows);
                lock (latencies) latencies.Add(started.Elapsed.TotalMilliseconds);
            }
        }));
        var elapsed = clock.Elapsed.TotalSeconds;
        latencies.Sort();
        return new Result(total / elapsed, latencies[latencies.Count / 2], latencies[(int)(latencies.Count * 0.99)]);
    }

    private sealed record Row(int Port, short Transport, long HostHash, string HostRef, DateTime ObservedAt, string Process, string Executable, int Pid);

    private static List<Row> BuildRows(Zipf zipf, int count)
    {
        var random = new Random(11);
        var now = DateTime.UtcNow;
        return [.. Enumerable.Range(0, count).Select(i =>
        {
            var host = $"host-{random.Next(2048):D4}";
            return new Row(zipf.Next(), (short)(random.Next(3) == 0 ? 2 : 1), (long)Observations.HostRefs.Hash(host), host, now.AddMilliseconds(-i),
                $"proc-{random.Next(20)}", "/usr/sbin/daemon", random.Next(1, 65000));
        })];
    }

    private static async Task WriteAsync(NpgsqlBinaryImporter copy, Row row, long seq, Guid batch)
    {
        await copy.StartRowAsync();
        await copy.WriteAsync(1, NpgsqlDbType.Integer);
        await copy.WriteAsync(seq, NpgsqlDbType.Bigint);
        await copy.WriteAsync(row.Port, NpgsqlDbType.Integer);
        await copy.WriteAsync(row.Transport, NpgsqlDbType.Smallint);
        await copy.WriteAsync(row.HostHash, NpgsqlDbType.Bigint);
        await copy.WriteAsync(row.HostRef, NpgsqlDbType.Text);
        await copy.WriteAsync(row.ObservedAt, NpgsqlDbType.TimestampTz);
        await copy.WriteAsync((short)1, NpgsqlDbType.Smallint);
        await copy.WriteAsync("0.0.0.0", NpgsqlDbType.Text);
        await copy.WriteAsync((short)1, NpgsqlDbType.Smallint);
        await copy.WriteAsync((short)1, NpgsqlDbType.Smallint);
        await copy.WriteAsync(row.Process, NpgsqlDbType.Text);
        await copy.WriteAsync(row.Executable, NpgsqlDbType.Text);
        await copy.WriteAsync(row.Pid, NpgsqlDbType.Integer);
        await copy.WriteAsync("root", NpgsqlDbType.Text);
        await copy.WriteAsync(true, NpgsqlDbType.Boolean);
        await copy.WriteAsync("", NpgsqlDbType.Text);
        await copy.WriteAsync("", NpgsqlDbType.Text);
        await copy.WriteAsync(batch, NpgsqlDbType.Uuid);
    }

    /// <summary>Ports by Zipf's law (rank 1 most common) over a shuffled port order: a few ports carry most sightings.</summary>
    internal sealed class Zipf
    {
        private readonly double[] _cumulative;
        private readonly int[] _ports;
        private readonly Random _random;

        public Zipf(int count, double exponent, int seed)
        {
            _random = new Random(seed);
            _cumulative = new double[count];
            double sum = 0;
            for (var k = 0; k < count; k++)
            {
                sum += 1 / Math.Pow(k + 1, exponent);
                _cumulative[k] = sum;
            }

            for (var k = 0; k < count; k++) _cumulative[k] /= sum;
            _ports = [.. Enumerable.Range(0, count).OrderBy(_ => _random.Next())];
        }

        public int Next()
        {
            lock (_random)
            {
                var index = Array.BinarySearch(_cumulative, _random.NextDouble());
                return _ports[index < 0 ? ~index : index];
            }
        }
    }
}
