using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Observations;
using PortHistory.Server.Application.Configuration;

namespace PortHistory.Server.Application.Usage;

/// <summary>
/// The usage history's upkeep, on one silo at a time: a UTC day closes once its grace has passed (the hosts that
/// reported that day, the busiest days of the lifetimes); month partitions exist ahead of time, and those older than the
/// daily retention are dropped (monthly rows stay); once per database, the listeners hosts held when the history began
/// are added (<see cref="UsagePrehistory"/>). Each step is one transaction, so a run cut short is done again whole.
/// A day's watch events are raised before it is marked closed: raised again after a crash, they are stored once (their ids name the day).
/// </summary>
// Six dependencies: the tables, the event log, and options (two), clock and logger.
public sealed class UsageDayCloser(
    IUsageMaintenance maintenance,
    IWatchEventSink events,
    IOptions<UsageHistoryOptions> options,
    IOptions<VerdictOptions> verdicts,
    TimeProvider clock,
    ILogger<UsageDayCloser> logger) : BackgroundService
{
    /// <summary>Days closed per run at most (a history loaded for years closes over several runs).</summary>
    public const int MaxDaysPerRun = 400;

    /// <summary>Closing a day also looks again at this many days before it: late reports may have made one of them busier.</summary>
    public const int RecheckDays = 7;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Interval, clock);
        do
        {
            try
            {
                await RunAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Usage history upkeep failed: {Message}; trying again in {Interval}", e.Message, options.Value.Interval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private bool _prehistoryCounted;

    /// <returns>The days closed; none when another silo holds the upkeep.</returns>
    public async Task<IReadOnlyList<DateOnly>> RunAsync(CancellationToken cancellationToken)
    {
        await using var held = await maintenance.TryLockAsync(cancellationToken);
        if (held is null) return [];
        var now = clock.GetUtcNow().UtcDateTime;
        var today = DateOnly.FromDateTime(now);
        var month = new DateOnly(today.Year, today.Month, 1);
        await maintenance.EnsurePartitionsAsync(month.AddMonths(-1), month.AddMonths(2), cancellationToken);
        var dropped = await maintenance.DropPartitionsBeforeAsync(DateOnly.FromDateTime(now - options.Value.DailyRetention), cancellationToken);
        if (dropped.Count > 0) logger.LogInformation("Usage history: daily partitions past the retention dropped: {Partitions}", string.Join(", ", dropped));
        if (!_prehistoryCounted) await CountBeforeHistoryAsync(cancellationToken);

        var closed = new List<DateOnly>();
        if (await maintenance.LastClosedAsync(cancellationToken) is not { } last) return closed;
        for (var day = last.AddDays(1); closed.Count < MaxDaysPerRun && day.AddDays(1).ToDateTime(TimeOnly.MinValue) + options.Value.CloseGrace <= now; day = day.AddDays(1))
        {
            var o = options.Value;
            var signals = await maintenance.ReadSignalsAsync(day, o.QuietDays, o.SpikeBaselineDays, cancellationToken);
            var raised = UsageSignals.Events(day, signals, verdicts.Value.MinHostsPerProcess, o.QuietDays, o.SpikeBaselineDays, o.SpikeDeviations, o.SpikeMinimumRise, now)
                .ToList();
            if (raised.Count > 0) await events.RaiseAsync(raised, cancellationToken);
            await maintenance.CloseDayAsync(day, RecheckDays, now, cancellationToken);
            closed.Add(day);
        }

        if (closed.Count > 0) logger.LogInformation("Usage history: closed {Count} day(s), {First:yyyy-MM-dd} to {Last:yyyy-MM-dd}", closed.Count, closed[0], closed[^1]);
        return closed;
    }

    /// <summary>Once: the listeners held when the history began. A failure is tried again next run and does not hold up closing days.</summary>
    private async Task CountBeforeHistoryAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (await maintenance.CountBeforeHistoryAsync(UsagePrehistory.Deltas, cancellationToken) is { } counted)
            {
                if (counted.Hosts > 0) logger.LogInformation("Usage history: added the listeners {Hosts} host(s) already held when the history began", counted.Hosts);
                if (counted.Unreadable > 0) logger.LogWarning("Usage history: {Hosts} host row(s) with a socket set that could not be read were left out of the listeners held when the history began", counted.Unreadable);
            }

            _prehistoryCounted = true;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Usage history: adding the listeners held when the history began failed: {Message}; trying again next run", e.Message);
        }
    }
}
