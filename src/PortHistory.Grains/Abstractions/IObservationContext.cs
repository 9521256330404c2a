using PortHistory.Observations;

namespace PortHistory.Grains.Abstractions;

/// <summary>Silo-wide inputs to verdicts.</summary>
public interface IObservationContext
{
    /// <summary>The fleet's hosts by state, as last counted.</summary>
    FleetCounts Fleet { get; }

    VerdictOptions Options { get; }

    ProcessServiceMap Processes { get; }

    /// <summary>A port grain writes its aggregates after this many new sightings at most…</summary>
    int CheckpointEvery { get; }

    /// <summary>…or this long after the first unwritten one.</summary>
    TimeSpan CheckpointInterval { get; }

    /// <summary>The observed past that verdict reasons quote.</summary>
    IVerdictHistory History => NoVerdictHistory.Instance;

    /// <summary>The clock that says which day "yesterday" is in the reasons.</summary>
    TimeProvider Clock => TimeProvider.System;
}

/// <summary>How many hosts are online, stale and retired, fleet-wide.</summary>
[GenerateSerializer, Immutable, Alias("porthistory.FleetCounts")]
public readonly record struct FleetCounts([property: Id(0)] long Online, [property: Id(1)] long Stale, [property: Id(2)] long Retired)
{
    /// <summary>The hosts verdicts rest on: online and stale ones (a host going silent keeps its sockets); retired ones do not count.</summary>
    public long Reporting => Online + Stale;
}
