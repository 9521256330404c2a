namespace PortHistory.Server.UnitTests.Architecture;

/// <summary>
/// The server reaches port and host grains through KeyedGrains only: Orleans' GetGrain by key finds the interface type
/// by reflection on every call, which showed in a profile of the hot paths.
/// </summary>
public sealed class GrainReferenceTests
{
    [Fact]
    public void Server_code_makes_port_and_host_grain_references_through_KeyedGrains_only()
    {
        var offenders = Repository.SourceFiles("src", ".cs")
            .Where(path => !path.EndsWith("KeyedGrains.cs", StringComparison.Ordinal))
            .SelectMany(path => File.ReadAllLines(Repository.PathOf(path)).Select((line, i) => (Path: path, Line: i + 1, Text: line)))
            .Where(l => l.Text.Contains("GetGrain<IPortGrain>", StringComparison.Ordinal) || l.Text.Contains("GetGrain<IHostGrain>", StringComparison.Ordinal))
            .Select(l => $"{l.Path}:{l.Line}")
            .ToList();

        Assert.True(offenders.Count == 0, $"GetGrain of a port or host grain outside KeyedGrains:\n{string.Join('\n', offenders)}");
    }
}
