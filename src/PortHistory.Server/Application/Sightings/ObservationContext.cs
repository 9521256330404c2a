using Microsoft.Extensions.Options;
using Npgsql;
using PortHistory.Grains.Observations;
using PortHistory.Observations;

namespace PortHistory.Server.Application.Sightings;

public sealed class VerdictSettings
{
    public const string Section = "PortHistory:Verdicts";

    public int MinHostsPerProcess { get; set; } = 3;

    public int MinReportingHosts { get; set; } = 10;

    /// <summary>A process-services table to use instead of the one shipped (same JSON shape).</summary>
    public string? ProcessServicesFile { get; set; }

    public int CheckpointEvery { get; set; } = 20_000;

    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>The silo-wide inputs of verdicts: thresholds, the process table, and the fleet's reporting hosts.</summary>
public sealed class ObservationContext : IObservationContext
{
    private long _reportingHosts;

    public ObservationContext(IOptions<VerdictSettings> settings)
    {
        var value = settings.Value;
        Options = new VerdictOptions { MinHostsPerProcess = value.MinHostsPerProcess, MinReportingHosts = value.MinReportingHosts };
        Processes = string.IsNullOrWhiteSpace(value.ProcessServicesFile) ? ProcessServiceMap.Default : ProcessServiceMap.LoadFile(value.ProcessServicesFile);
        CheckpointEvery = value.CheckpointEvery;
        CheckpointInterval = value.CheckpointInterval;
    }

    public long ReportingHosts => Interlocked.Read(ref _reportingHosts);

    public VerdictOptions Options { get; }

    public ProcessServiceMap Processes { get; }

    public int CheckpointEvery { get; }

    public TimeSpan CheckpointInterval { get; }

    /// <summary>New hosts this silo's journal writer just recorded.</summary>
    public void HostsAdded(int count)
    {
        if (count > 0) Interlocked.Add(ref _reportingHosts, count);
    }

    public void Set(long reportingHosts) => Interlocked.Exchange(ref _reportingHosts, reportingHosts);
}

/// <summary>Reads the fleet's reporting-host count at start and every few seconds (other silos add hosts too).</summary>
public sealed class FleetStatisticsRefresher(NpgsqlDataSource dataSource, ObservationContext context, ILogger<FleetStatisticsRefresher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(5));
        do
        {
            try
            {
                await using var command = dataSource.CreateCommand("SELECT count(*) FROM reporting_hosts");
                context.Set((long)(await command.ExecuteScalarAsync(stoppingToken))!);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogDebug("Counting reporting hosts failed: {Message}", e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
