namespace PortHistory.Grains.Abstractions;

/// <summary>The committed and staged history generations a port grain holds, and the one it shows.</summary>
[GenerateSerializer, Immutable, Alias("porthistory.RegistryGenerations")]
public sealed record RegistryGenerations([property: Id(0)] long? Committed, [property: Id(1)] long? Staged, [property: Id(2)] long Visible);
