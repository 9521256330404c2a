using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using PortHistory.Grains.Abstractions;
using PortHistory.Observations;
using PortHistory.Server.Application.Configuration;

namespace PortHistory.Server.Application.Sightings;

/// <summary>The silo-wide inputs of verdicts: thresholds, the process table, and the fleet's reporting hosts.</summary>
public sealed class ObservationContext : IObservationContext
{
    // One pending recount is enough: a request while one is pending changes nothing.
    private readonly Channel<bool> _recount = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    // Read on every GetPort the board answers (PortAnswerBoard): swapped whole, read without a lock.
    private volatile StrongBox<FleetCounts> _fleet = new(default);

    public ObservationContext(IOptions<VerdictOptions> verdicts, IOptions<ObservationOptions> settings, Usage.VerdictHistory? history = null,
        TimeProvider? clock = null)
    {
        History = history ?? (IVerdictHistory)NoVerdictHistory.Instance;
        Clock = clock ?? TimeProvider.System;
        var value = settings.Value;
        Options = verdicts.Value;
        Processes = string.IsNullOrWhiteSpace(value.ProcessServicesFile) ? ProcessServiceMap.Default : ProcessServiceMap.LoadFile(value.ProcessServicesFile);
        CheckpointEvery = value.CheckpointEvery;
        CheckpointInterval = value.CheckpointInterval;
    }

    /// <summary>The hosts verdicts rest on: online and stale (a silent host keeps its sockets); retired ones do not count.</summary>
    public long ReportingHosts => Fleet.Reporting;

    public FleetCounts Fleet => _fleet.Value;

    public VerdictOptions Options { get; }

    public ProcessServiceMap Processes { get; }

    public int CheckpointEvery { get; }

    public TimeSpan CheckpointInterval { get; }

    public IVerdictHistory History { get; }

    public TimeProvider Clock { get; }

    /// <summary>
    /// This silo just committed a host never seen before, or a host's change of state. The counts are then read again
    /// rather than added to: a read that raced the commit (and saw the old counts) is always followed by one that sees it.
    /// </summary>
    public void HostsChanged() => _recount.Writer.TryWrite(true);

    public void Set(FleetCounts fleet) => _fleet = new StrongBox<FleetCounts>(fleet);

    /// <summary>Completes when a recount was asked for since the last call.</summary>
    public ValueTask<bool> RecountRequestedAsync(CancellationToken cancellationToken) => _recount.Reader.WaitToReadAsync(cancellationToken);

    public void RecountStarting() => _recount.Reader.TryRead(out _);
}
