using Microsoft.Extensions.Options;
using PortHistory.Grains.Abstractions;
using PortHistory.Observations;
using PortHistory.Server.Application.Configuration;

namespace PortHistory.Server.Application.Sightings;

/// <summary>
/// Finds processes no host reports any more. A port whose process stopped gets no sightings, so its grain is never woken
/// by them: every <see cref="ObservationOptions.GoneSweepInterval"/>, one silo of the cluster (a lock in PostgreSQL)
/// reads the observations index for ports with a process last seen more than <see cref="VerdictOptions.ProcessGoneAfter"/>
/// before the fleet's newest sighting, and has their grains mark it gone. Marking is idempotent (the grain decides from
/// its own state; events have stable ids), so a sweep cut short by a crash is simply done again.
/// </summary>
public sealed class GoneProcessSweeper(
    IObservationIndex index,
    IGrainFactory grains,
    IOptions<VerdictOptions> verdicts,
    IOptions<ObservationOptions> options,
    ILogger<GoneProcessSweeper> logger) : BackgroundService
{
    /// <summary>Ports asked per query; a sweep asks again while full pages come back, up to <see cref="PagesPerSweep"/>.</summary>
    private const int PageSize = 1_000;

    private const int PagesPerSweep = 64;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.GoneSweepInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Sweeping for gone processes failed: {Message}; trying again in {Interval}", e.Message, options.Value.GoneSweepInterval);
            }
        }
    }

    /// <returns>The ports whose grains were asked; 0 when another silo holds the sweep.</returns>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        await using var held = await index.TryLockGoneSweepAsync(cancellationToken);
        if (held is null) return 0;
        var asked = new HashSet<int>();
        var failed = 0;
        for (var page = 0; page < PagesPerSweep; page++)
        {
            // A port asked once in this sweep and still listed (its row could not be written) waits for the next sweep.
            if (await index.PortsWithProcessesGoneAsync(verdicts.Value.ProcessGoneAfter, PageSize, cancellationToken) is not var (seenBefore, listed)
                || listed.Where(asked.Add).ToList() is not { Count: > 0 } ports)
            {
                break;
            }

            await Parallel.ForEachAsync(ports, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (port, _) =>
            {
                try
                {
                    await grains.GetGrain<IPortGrain>(port).MarkGoneAsync(seenBefore);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    // One port that cannot write now must not stop the others: its row still says so at the next sweep.
                    Interlocked.Increment(ref failed);
                    logger.LogDebug("Port {Port}: marking gone processes failed: {Message}", port, e.Message);
                }
            });
            if (listed.Count < PageSize || failed > 0) break;
        }

        if (asked.Count > 0) logger.LogInformation("Gone-process sweep: {Asked} port(s) looked at, {Failed} failed", asked.Count, failed);
        return asked.Count;
    }
}
