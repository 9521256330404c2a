using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Sightings;

namespace PortHistory.Server.Application.Hosts;

/// <summary>What became of a report: the host grain's answer, or a refusal, or a time to come back (the server is catching up).</summary>
/// <param name="InMemory">A heartbeat the silo answered from its pulse board, without the host's grain.</param>
public sealed record HostReportOutcomeOrRefusal(HostReportResult? Result, HostReportRefusal? Refusal, TimeSpan? RetryAfter, bool InMemory = false);

/// <summary>Hands what agents report about their hosts to the hosts' grains.</summary>
public interface IHostReports
{
    /// <summary>A differential report (heartbeat, changes or snapshot).</summary>
    Task<HostReportOutcomeOrRefusal> ReportAsync(HostReport report, CancellationToken cancellationToken);

    /// <summary>A full-report batch's sightings, as scans of the hosts they name; completes once what they change is durable.</summary>
    Task ReportScansAsync(IReadOnlyList<ValidSighting> sightings, CancellationToken cancellationToken);

    /// <summary>A while for an agent to come back after when the server is catching up with its hosts.</summary>
    TimeSpan RetryAfter();
}

/// <summary>
/// Reports of hosts to their grains: differential reports (validated, their processes looked up by id), and the full
/// reports of older agents, whose sightings become each host's scan. Reports that change a set are admitted a bounded
/// number at a time per silo; beyond it agents are told when to come back, each a different while, so they spread out.
/// </summary>
public sealed class HostReports(
    HostReportValidator validator,
    HostSockets sockets,
    IHostHeartbeats heartbeats,
    KeyedGrains grains,
    IOptions<HostReportingOptions> options,
    TimeProvider clock) : IHostReports, IDisposable
{
    private readonly ConcurrencyLimiter _changes = new(new ConcurrencyLimiterOptions { PermitLimit = options.Value.MaxConcurrentChanges, QueueLimit = 0 });

    public async Task<HostReportOutcomeOrRefusal> ReportAsync(HostReport report, CancellationToken cancellationToken)
    {
        var (valid, refusal) = validator.Validate(report);
        if (valid is null) return new HostReportOutcomeOrRefusal(null, refusal, null);

        using var lease = valid.Kind == HostReportKind.Heartbeat ? null : _changes.AttemptAcquire();
        if (lease is { IsAcquired: false }) return new HostReportOutcomeOrRefusal(null, null, RetryAfter());

        var received = clock.GetUtcNow().UtcDateTime;
        var since = valid.ObservedAt < received ? valid.ObservedAt : received;
        var input = new HostReportInput(valid.Kind, valid.EpochId, valid.EpochStartedAt, valid.Seq, valid.SetHash, valid.Toggled,
            await sockets.ToEntriesAsync(valid.Added, since, cancellationToken), await sockets.ToEntriesAsync(valid.Removed, since, cancellationToken),
            valid.ObservedAt, received, valid.HostGroup, valid.AgentVersion, valid.Privileged, valid.DroppedReports, valid.DroppedBytes);
        // Most heartbeats only say the host is alive: answered here, they cost no grain call.
        if (valid.Kind == HostReportKind.Heartbeat && heartbeats.TryAnswer(valid.HostRef, input) is { } held)
        {
            return new HostReportOutcomeOrRefusal(new HostReportResult { Outcome = HostReportOutcome.Applied, Reason = "", Seq = held }, null, null, InMemory: true);
        }

        try
        {
            var answer = await grains.Host(valid.HostRef).ReportAsync(input);
            return new HostReportOutcomeOrRefusal(new HostReportResult { Outcome = answer.Outcome, Reason = answer.Reason, Seq = answer.Seq }, null, null);
        }
        catch (HostsBusyException)
        {
            return new HostReportOutcomeOrRefusal(null, null, RetryAfter());
        }
    }

    /// <summary>
    /// A full-report batch: for each host it names, its sightings are a scan of that host (batches of one scan share
    /// its time), from which the host's grain derives what appeared and what went.
    /// </summary>
    public async Task ReportScansAsync(IReadOnlyList<ValidSighting> sightings, CancellationToken cancellationToken)
    {
        var received = clock.GetUtcNow().UtcDateTime;
        // A few hosts at a time: a relay's batch of a thousand hosts must not take every activation slot of the silo.
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = ScanParallelism, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(sightings.GroupBy(s => s.HostRef, StringComparer.Ordinal), parallel, async (host, _) =>
        {
            var list = host.ToList();
            var observed = list.Max(s => s.ObservedAt);
            var entries = new List<HostSocketEntry>(list.Count);
            // Each socket since the sighting's own time: a scan's sightings share one.
            foreach (var group in list.GroupBy(s => s.ObservedAt))
            {
                entries.AddRange(await sockets.ToEntriesAsync([.. group.Select(HostSockets.FromSighting)], group.Key < received ? group.Key : received, cancellationToken));
            }

            await grains.Host(host.Key).ReportScanAsync(new HostScanInput([.. entries], observed, received, list[0].HostGroup,
                list.Any(s => s.Privileged)));
        });
    }

    private const int ScanParallelism = 32;

    /// <summary>A while to come back after, drawn between a quarter of the configured wait and all of it.</summary>
    public TimeSpan RetryAfter()
    {
        var most = options.Value.RetryAfter;
        return most / 4 + TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * most.TotalMilliseconds * 3 / 4);
    }

    public void Dispose() => _changes.Dispose();
}
