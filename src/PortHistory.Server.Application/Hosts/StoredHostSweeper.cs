using Microsoft.Extensions.Options;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Configuration;

namespace PortHistory.Server.Application.Hosts;

/// <summary>
/// Looks at the stored hosts, on one silo of the cluster at a time: hosts no silo holds any more (after a restart)
/// that went silent meanwhile turn stale, and hosts silent longer than <see cref="HostReportingOptions.RetireAfter"/>
/// are retired (their sockets removed, their credentials revoked). Each host's grain decides from what it knows, so a
/// sweep cut short is simply done again.
/// </summary>
public sealed class StoredHostSweeper(IHostRows rows, KeyedGrains grains, HostAdministration administration, IOptions<HostReportingOptions> options,
    TimeProvider clock, ILogger<StoredHostSweeper> logger) : BackgroundService
{
    private const int Page = 1_000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.StoredSweepInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Sweeping the stored hosts failed: {Message}; trying again in {Interval}", e.Message, options.Value.StoredSweepInterval);
            }
        }
    }

    /// <returns>Hosts asked to turn stale, and hosts retired; (0, 0) when another silo sweeps.</returns>
    public async Task<(int Stale, int Retired)> SweepAsync(CancellationToken cancellationToken)
    {
        await using var held = await rows.TryLockSweepAsync(cancellationToken);
        if (held is null) return (0, 0);
        var o = options.Value;
        var now = clock.GetUtcNow().UtcDateTime;
        // A held host's stored last-seen time lags its heartbeats by up to the write interval and one more heartbeat (it is
        // written once it moved by more than the interval) and a sweep: only hosts older than that are asked.
        var stale = await rows.SilentAsync(HostState.Online, now - o.StaleAfter - o.LastSeenWriteInterval - o.HeartbeatPeriod - o.SweepInterval, Page,
            cancellationToken);
        await Parallel.ForEachAsync(stale, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (hostRef, _) => await grains.Host(hostRef).CheckLivenessAsync(now - o.StaleAfter));

        var retired = 0;
        foreach (var state in new[] { HostState.Stale, HostState.Online })
        {
            foreach (var hostRef in await rows.SilentAsync(state, now - o.RetireAfter, Page, cancellationToken))
            {
                var after = await administration.RetireAsync(hostRef, $"silent for more than {o.RetireAfter.TotalDays:0.#} days", cancellationToken,
                    heardBefore: now - o.RetireAfter);
                if (after?.Host.State == HostState.Retired) retired++;
            }
        }

        if (stale.Count > 0 || retired > 0) logger.LogInformation("Stored-host sweep: {Stale} silent host(s) asked, {Retired} retired", stale.Count, retired);
        return (stale.Count, retired);
    }
}
