using PortHistory.Observations;

namespace PortHistory.Grains.Abstractions;

/// <summary>Silo-wide inputs to verdicts.</summary>
public interface IObservationContext
{
    /// <summary>Hosts that have reported anything, fleet-wide.</summary>
    long ReportingHosts { get; }

    VerdictOptions Options { get; }

    ProcessServiceMap Processes { get; }

    /// <summary>A port grain writes its aggregates after this many new sightings at most…</summary>
    int CheckpointEvery { get; }

    /// <summary>…or this long after the first unwritten one.</summary>
    TimeSpan CheckpointInterval { get; }
}
