using PortHistory.Grains.Abstractions;

namespace PortHistory.Grains.Ports;

/// <summary>What a port grain persists.</summary>
[GenerateSerializer, Alias("porthistory.PortGrainState")]
public sealed class PortGrainState
{
    /// <summary>Timelines of a committed generation.</summary>
    [Id(0)]
    public RegistrySlice? Committed { get; set; }

    /// <summary>Timelines of a newer generation, visible once that generation commits.</summary>
    [Id(1)]
    public RegistrySlice? Staged { get; set; }

    /// <summary>Observed usage, as of the journal watermarks it holds.</summary>
    [Id(2)]
    public Observations.ObservedUsage Observed { get; set; } = new();
}

/// <summary>A serialized <c>StoredPortRegistry</c> message of one history generation.</summary>
[GenerateSerializer, Immutable, Alias("porthistory.RegistrySlice")]
public sealed record RegistrySlice([property: Id(0)] long Generation, [property: Id(1)] byte[] Timelines);
