using PortHistory.Registry.History;
using PortHistory.Testing;

namespace PortHistory.Registry.Tests;

/// <summary>The history of all sixteen real editions, built once for the tests that read it.</summary>
public sealed class HistoryFixture
{
    public RegistryHistory History { get; } = RegistryHistory.Build(RegistryData.AllEditions());
}
