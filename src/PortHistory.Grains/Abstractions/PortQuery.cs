using PortHistory.Contracts.V1;

namespace PortHistory.Grains.Abstractions;

/// <summary>A GetPort question as a port grain takes it.</summary>
[GenerateSerializer, Immutable, Alias("porthistory.PortQuery")]
public sealed record PortQuery(
    [property: Id(0)] Transport Transport,
    [property: Id(1)] DateOnly? AsOf,
    [property: Id(2)] bool IncludeHostRefs = false)
{
    /// <summary>The question most callers ask (newest edition, every transport, no host ids): the one answer boards keep.</summary>
    public static bool IsCommon(PortQuery query) => query is { Transport: Transport.Unspecified, AsOf: null, IncludeHostRefs: false };
}
