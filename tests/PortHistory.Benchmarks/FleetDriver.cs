using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using PortHistory.Contracts.V1;

namespace PortHistory.Benchmarks;

/// <summary>
/// Runs every simulated host as its agent would: a snapshot first, then a heartbeat every period (with jitter) or, at
/// the churn rate, a change; RESYNC answered at once with a snapshot (a RESYNC of a snapshot begins a new epoch);
/// ResourceExhausted waits the server's retry-after, an unreachable server is retried with backoff. All hosts share
/// a few HTTP/2 channels and a bounded number of calls in flight.
/// </summary>
internal sealed class FleetDriver(FleetCatalog catalog, IReadOnlyList<FleetHost> hosts, GrpcChannel[] channels, TimeSpan period, double churn, int concurrency)
{
    /// <summary>The share of hosts that change a socket per period; 0 leaves heartbeats alone.</summary>
    public double Churn { get; set; } = churn;

    private readonly SemaphoreSlim _slots = new(concurrency);
    private CancellationTokenSource _wake = new();

    /// <summary>Where answers are counted from now on.</summary>
    public FleetPhase Phase { get; set; } = new("start");

    /// <summary>Every host takes its next turn now instead of at its time (after a restart storm's faults are set).</summary>
    public void WakeAll() => Interlocked.Exchange(ref _wake, new()).Cancel();

    /// <summary>Runs until <paramref name="stop"/>; then hosts with a fault not yet healed take one more turn, so the server ends up with every host's set.</summary>
    public Task RunAsync(CancellationToken stop) => Task.WhenAll(hosts.Select((h, i) => Task.Run(() => HostLoopAsync(h, i, stop))));

    private async Task HostLoopAsync(FleetHost host, int index, CancellationToken stop)
    {
        var random = new Random(index);
        var client = new Sightings.SightingsClient(channels[index % channels.Length]);
        // First reports spread over the first period, as agents started at different times.
        var delay = period * random.NextDouble();
        while (!stop.IsCancellationRequested)
        {
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, _wake.Token))
            {
                try
                {
                    await Task.Delay(delay, linked.Token);
                }
                catch (OperationCanceledException)
                {
                    if (stop.IsCancellationRequested) break;
                }
            }

            await TurnAsync(host, client, random);
            delay = period * (0.9 + 0.2 * random.NextDouble());
        }

        if (host.ExpectsResync || host.NeedsSnapshot) await TurnAsync(host, client, random);
    }

    private async Task TurnAsync(FleetHost host, Sightings.SightingsClient client, Random random)
    {
        var phase = Phase;
        var fault = host.Fault;
        if (fault == FleetFault.StateLoss) host.StartEpoch(NewEpochId(random));
        if (fault == FleetFault.Snapshot) host.NeedsSnapshot = true;
        if (fault is FleetFault.StateLoss or FleetFault.Snapshot) host.Fault = FleetFault.None;

        if (!host.NeedsSnapshot)
        {
            if (fault != FleetFault.None) host.Fault = FleetFault.None;
            switch (fault)
            {
                case FleetFault.Duplicate:
                {
                    var change = host.Change(catalog, random);
                    var first = await SendAsync(host, client, change, random);
                    if (first == HostReportOutcome.Applied) Judge(phase, host, "duplicate", await SendAsync(host, client, change, random), HostReportOutcome.Duplicate);
                    break;
                }

                case FleetFault.Drop:
                    host.Change(catalog, random);
                    host.ExpectsResync = true;
                    Judge(phase, host, "drop", await SendAsync(host, client, host.Heartbeat(), random), HostReportOutcome.Resync);
                    break;
                case FleetFault.Reorder:
                {
                    var earlier = host.Change(catalog, random);
                    var later = host.Change(catalog, random);
                    host.ExpectsResync = true;
                    Judge(phase, host, "reorder, later first", await SendAsync(host, client, later, random), HostReportOutcome.Resync);
                    Judge(phase, host, "reorder, earlier second", await SendAsync(host, client, earlier, random), HostReportOutcome.Applied);
                    break;
                }

                default:
                    await SendAsync(host, client, random.NextDouble() < Churn ? host.Change(catalog, random) : host.Heartbeat(), random);
                    break;
            }
        }

        // A RESYNC is answered at once; a snapshot answered RESYNC begins a new epoch, whose snapshot cannot be refused.
        for (var attempt = 0; host.NeedsSnapshot && attempt < 3; attempt++) await SendAsync(host, client, host.Snapshot(catalog), random);
    }

    private static void Judge(FleetPhase phase, FleetHost host, string fault, HostReportOutcome? outcome, HostReportOutcome expected)
    {
        if (outcome == expected)
        {
            Interlocked.Increment(ref phase.FaultsAnsweredRight);
            return;
        }

        Interlocked.Increment(ref phase.FaultsAnsweredWrong);
        phase.Problem($"{host.Ref}: {fault} answered {outcome?.ToString() ?? "not at all"}, expected {expected}");
    }

    /// <summary>
    /// Sends until the server answers: a report is retried whole (the server applies it at most once), and never
    /// abandoned, since the model has already moved on.
    /// </summary>
    private async Task<HostReportOutcome?> SendAsync(FleetHost host, Sightings.SightingsClient client, HostReport report, Random random)
    {
        var backoff = TimeSpan.FromMilliseconds(500);
        while (true)
        {
            var phase = Phase;
            TimeSpan wait;
            await _slots.WaitAsync();
            var started = Stopwatch.GetTimestamp();
            try
            {
                var result = await client.ReportHostAsync(report, deadline: DateTime.UtcNow.AddSeconds(30));
                Answered(phase, host, report, result, Stopwatch.GetElapsedTime(started).TotalMilliseconds, random);
                return result.Outcome;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted && RetryAfter(e) is { } after)
            {
                Interlocked.Increment(ref phase.RetryAfters);
                wait = after;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Unknown or StatusCode.Cancelled)
            {
                // The server is down or restarting: back off, with jitter so that hosts do not come back in step.
                phase.WasUnavailable($"{e.StatusCode}: {e.Status.Detail}");
                if (e.StatusCode is not StatusCode.Unavailable) phase.Problem($"{host.Ref}: {e.StatusCode} {e.Status.Detail}");
                wait = backoff * (0.5 + random.NextDouble());
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
            catch (RpcException e)
            {
                Interlocked.Increment(ref phase.Errors);
                phase.Problem($"{host.Ref}: {e.StatusCode} {e.Status.Detail}");
                return null;
            }
            finally
            {
                _slots.Release();
            }

            await Task.Delay(wait);
        }
    }

    private void Answered(FleetPhase phase, FleetHost host, HostReport report, HostReportResult result, double milliseconds, Random random)
    {
        host.LastOutcome = result.Outcome;
        var snapshot = report.BodyCase == HostReport.BodyOneofCase.Snapshot;
        switch (result.Outcome)
        {
            case HostReportOutcome.Applied or HostReportOutcome.Duplicate:
                phase.Accepted(report.BodyCase, result.Outcome);
                if (report.BodyCase == HostReport.BodyOneofCase.Heartbeat) phase.HeartbeatTook(milliseconds);
                if (snapshot && report.Epoch.Id == host.Epoch && report.Seq == host.Seq) host.NeedsSnapshot = host.ExpectsResync = false;
                break;
            case HostReportOutcome.Resync:
                if (host.ExpectsResync) Interlocked.Increment(ref phase.ExpectedResyncs);
                else
                {
                    Interlocked.Increment(ref phase.UnexpectedResyncs);
                    phase.Problem($"{host.Ref}: unexpected RESYNC of a {report.BodyCase} (seq {report.Seq}): {result.Reason}");
                }

                if (snapshot) host.StartEpoch(NewEpochId(random));
                else host.NeedsSnapshot = true;
                break;
            default:
                Interlocked.Increment(ref phase.Errors);
                phase.Problem($"{host.Ref}: outcome {result.Outcome}");
                break;
        }
    }

    private static TimeSpan? RetryAfter(RpcException e) =>
        e.Trailers.GetValue("retry-after-ms") is { } ms && double.TryParse(ms, System.Globalization.CultureInfo.InvariantCulture, out var value) ? TimeSpan.FromMilliseconds(value) : null;

    public static ulong NewEpochId(Random random)
    {
        ulong id;
        do id = (ulong)random.NextInt64() ^ ((ulong)random.Next() << 63);
        while (id == 0);
        return id;
    }
}
