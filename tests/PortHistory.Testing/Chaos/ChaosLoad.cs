using System.Diagnostics;
using Grpc.Core;
using PortHistory.Contracts.V1;

namespace PortHistory.Testing.Chaos;

/// <summary>
/// Callers of a <see cref="ChaosCluster"/>: readers asking GetPort through the offered gateways, and agents reporting
/// batches of one sighting for each of a scenario's own ports. An agent sends a batch that got no answer again, with
/// the same batch id, until it is acknowledged; so every sent batch is acknowledged once reporting ends, and each
/// port must end up with exactly one sighting per batch.
/// </summary>
public sealed class ChaosLoad
{
    private const uint ReadPorts = 400;
    private readonly ChaosCluster _cluster;
    private readonly uint _firstPort;
    private readonly int _ports;
    private readonly ServerProcess? _readersAvoid;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly CancellationTokenSource _stopReading = new();
    private readonly CancellationTokenSource _stopReporting = new();
    private readonly List<Task> _readers;
    private readonly List<Task> _agents;
    private readonly List<(double Start, double Milliseconds)> _latencies = [];
    private readonly List<string> _failures = [];
    private readonly HashSet<string> _hosts = [];
    private long _reads;
    private long _batches;
    private double _faultBegins = double.NaN;
    private double _faultEnds = double.NaN;
    private double _reportingEnds = double.NaN;
    private DateTime _reportingEndedAt;

    /// <param name="firstPort">The first of <paramref name="ports"/> ports that only this load reports sightings for.</param>
    /// <param name="readersAvoid">A gateway readers never use (the silo a scenario kills: reads through survivors are what count).</param>
    public ChaosLoad(ChaosCluster cluster, uint firstPort, int ports = 20, int readers = 8, int agents = 2, ServerProcess? readersAvoid = null)
    {
        _cluster = cluster;
        _firstPort = firstPort;
        _ports = ports;
        _readersAvoid = readersAvoid;
        _readers = [.. Enumerable.Range(0, readers).Select(r => Task.Run(() => ReadAsync(1 + (uint)r * (ReadPorts / (uint)readers))))];
        _agents = [.. Enumerable.Range(0, agents).Select(a => Task.Run(() => ReportAsync(a)))];
    }

    public long Reads => Interlocked.Read(ref _reads);

    /// <summary>Batches acknowledged so far.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    public void FaultBegins() => _faultBegins = _clock.Elapsed.TotalSeconds;

    public void FaultEnds() => _faultEnds = _clock.Elapsed.TotalSeconds;

    /// <summary>Waits until <paramref name="reads"/> more reads and <paramref name="batches"/> more batches have succeeded.</summary>
    public async Task ProgressAsync(long reads, long batches, TimeSpan? timeout = null)
    {
        var (readTarget, batchTarget) = (Reads + reads, Batches + batches);
        await Eventually.Async(() => Task.FromResult((Reads, Batches)), n => n.Reads >= readTarget && n.Batches >= batchTarget, timeout ?? TimeSpan.FromSeconds(120));
    }

    /// <summary>Agents send no new batch; those under way are sent until acknowledged.</summary>
    public async Task StopReportingAsync()
    {
        _reportingEnds = _clock.Elapsed.TotalSeconds;
        _reportingEndedAt = DateTime.UtcNow;
        await _stopReporting.CancelAsync();
        await Task.WhenAll(_agents);
    }

    /// <summary>Stops everything, waits (up to <paramref name="visibleWithin"/>) for every acknowledged sighting to be visible, and tells what happened.</summary>
    /// <param name="declaredDead">For a silo killed as reporting ended: when the cluster declared it dead.</param>
    public async Task<ChaosFigures> FinishAsync(string scenario, TimeSpan? visibleWithin = null, Task<DateTime>? declaredDead = null)
    {
        if (!_stopReporting.IsCancellationRequested) await StopReportingAsync();
        var expected = (ulong)Batches;
        var hosts = (ulong)_hosts.Count;
        var observations = new Observations.ObservationsClient(_cluster.Silos[0].Channel);
        var counted = new ulong[_ports];
        var visible = false;
        var deadline = DateTime.UtcNow + (visibleWithin ?? TimeSpan.FromSeconds(60));
        while (!visible && DateTime.UtcNow < deadline)
        {
            for (var i = 0; i < _ports; i++)
            {
                if (counted[i] == expected) continue;
                try
                {
                    var answer = await observations.GetObservedAsync(new GetObservedRequest { Port = _firstPort + (uint)i }, deadline: DateTime.UtcNow.AddSeconds(30));
                    var transport = answer.Observed.Transports.SingleOrDefault(t => t.Transport == Transport.Tcp);
                    counted[i] = transport?.Sightings ?? 0;
                    if (counted[i] == expected && transport!.DistinctHosts != hosts)
                    {
                        throw new InvalidOperationException($"port {_firstPort + i}: {transport.DistinctHosts} distinct hosts, {hosts} reported");
                    }
                }
                catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
                {
                    // Asked again on the next round.
                }
            }

            visible = counted.All(c => c == expected);
            if (!visible) await Task.Delay(100);
        }

        var secondsToVisible = visible ? _clock.Elapsed.TotalSeconds - _reportingEnds : (double?)null;
        double? secondsToDeclaredDead = null;
        try
        {
            if (declaredDead is not null) secondsToDeclaredDead = (await declaredDead - _reportingEndedAt).TotalSeconds;
        }
        catch (TimeoutException)
        {
            // Never declared: left null, which the figures show.
        }

        await _stopReading.CancelAsync();
        await Task.WhenAll(_readers);
        double p99;
        lock (_latencies)
        {
            var end = double.IsNaN(_faultEnds) ? double.MaxValue : _faultEnds;
            var during = _latencies.Where(l => double.IsNaN(_faultBegins) || (l.Start >= _faultBegins && l.Start <= end)).Select(l => l.Milliseconds).Order().ToList();
            p99 = during.Count == 0 ? 0 : during[Math.Min(during.Count - 1, (int)Math.Ceiling(during.Count * 0.99) - 1)];
        }

        var lost = counted.Sum(c => c < expected ? (long)(expected - c) : 0);
        var twice = counted.Sum(c => c > expected ? (long)(c - expected) : 0);
        var miscounted = new List<string>();
        for (var i = 0; i < _ports; i++)
        {
            if (counted[i] != expected) miscounted.Add(await DescribeAsync(_firstPort + (uint)i, counted[i], expected));
        }

        lock (_failures)
        {
            return new ChaosFigures(scenario, Reads, _failures.Count, p99, (long)expected * _ports, lost, twice, secondsToVisible, [.. _failures], miscounted)
            {
                SecondsToDeclaredDead = secondsToDeclaredDead,
            };
        }
    }

    /// <summary>
    /// A port counted wrong, beside what the journal holds for it per writer and the watermarks its grain last
    /// recorded: rows above the watermarks not counted means a grain that was never told; fewer rows, a lost batch.
    /// </summary>
    private async Task<string> DescribeAsync(uint port, ulong counted, ulong expected, bool again = true)
    {
        try
        {
            await using var command = _cluster.Sql.CreateCommand("""
                SELECT j.writer_id, count(*), min(j.seq), max(j.seq), coalesce(max(w.seq), -1)
                FROM sighting_journal j LEFT JOIN port_watermarks w ON w.port = j.port AND w.writer_id = j.writer_id
                WHERE j.port = $1 GROUP BY j.writer_id ORDER BY j.writer_id
                """);
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = (int)port });
            var writers = new List<string>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                writers.Add($"writer {reader.GetInt32(0)}: {reader.GetInt64(1)} rows, seq {reader.GetInt64(2)}..{reader.GetInt64(3)}, watermark {reader.GetInt64(4)}");
            }

            return $"port {port}: counted {counted} of {expected}; journal {(writers.Count == 0 ? "empty" : string.Join("; ", writers))}";
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException)
        {
            // A pooled connection from before a PostgreSQL restart fails once: the pool is emptied and the query asked again.
            _cluster.Sql.Clear();
            return again ? await DescribeAsync(port, counted, expected, again: false) : $"port {port}: counted {counted} of {expected}; journal unreadable: {e.Message}";
        }
    }

    private async Task ReadAsync(uint port)
    {
        while (!_stopReading.IsCancellationRequested)
        {
            using var gateway = _cluster.PickGateway(except: _readersAvoid);
            var started = _clock.Elapsed.TotalSeconds;
            try
            {
                // A transport is named, so this is not the common answer cached by the gateway: every read is a grain call.
                var answer = await new PortRegistry.PortRegistryClient(gateway.Silo.Channel).GetPortAsync(
                    new GetPortRequest { Port = port, Transport = Transport.Tcp }, deadline: DateTime.UtcNow.AddSeconds(30));
                if (answer.Port != port) throw new InvalidOperationException($"port {port} answered as {answer.Port}");
                lock (_latencies) _latencies.Add((started, (_clock.Elapsed.TotalSeconds - started) * 1000));
                Interlocked.Increment(ref _reads);
            }
            catch (RpcException e)
            {
                lock (_failures) _failures.Add($"port {port} at {started:0.0} s via {gateway.Silo.Address}: {e.StatusCode} {e.Status.Detail}");
            }

            port = port % ReadPorts + 1;
        }
    }

    private async Task ReportAsync(int agent)
    {
        for (var b = 0; !_stopReporting.IsCancellationRequested; b++)
        {
            var host = $"chaos-host-{(agent * 37 + b) % 100}";
            var batch = FleetSimulator.Batch(Enumerable.Range(0, _ports).Select(i => FleetSimulator.Sighting(host, _firstPort + (uint)i, Transport.Tcp, "daemon")));
            for (var attempt = 1; ; attempt++)
            {
                using var gateway = _cluster.PickGateway();
                try
                {
                    var result = await new Sightings.SightingsClient(_cluster.AgentChannel(gateway.Silo)).ReportBatchAsync(batch, deadline: DateTime.UtcNow.AddSeconds(30));
                    if (result.Accepted != (uint)_ports) throw new InvalidOperationException($"batch {batch.BatchId}: {result.Accepted} of {_ports} accepted");
                    break;
                }
                catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.ResourceExhausted or StatusCode.Aborted)
                {
                    // Sent again with the same batch id, after the pause an agent's backoff makes.
                    await Task.Delay(Math.Min(1000, 50 * attempt));
                }
                catch (RpcException e) when (e.StatusCode is StatusCode.Internal or StatusCode.Unknown)
                {
                    // A failure no agent can act on: the servers' own account of it goes with the test's failure.
                    throw new InvalidOperationException($"batch {batch.BatchId} through {gateway.Silo.Address}: {e.Status}\n{_cluster.Problems}", e);
                }
            }

            lock (_hosts) _hosts.Add(host);
            Interlocked.Increment(ref _batches);
        }
    }
}
