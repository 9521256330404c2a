using CsCheck;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;
using PortHistory.Server.Application.Import;
using PortHistory.Server.Application.Tests.Import;

namespace PortHistory.Server.Application.Tests;

/// <summary>
/// The server projects each generation from the one before, reusing what did not change (serialized versions, port
/// states, holdings). Whatever the editions, that must give byte for byte what a projection from nothing gives.
/// </summary>
public sealed class RegistryProjectionReuseTests
{
    private static readonly Gen<(string Name, string Ports, string Transport, string Description)> Row =
        Gen.Select(
            Gen.OneOf<string>(["echo", "rtip", "wpages", "Echo", "", "cadlock"]),
            Gen.Int[1, 12],
            Gen.Int[0, 3],
            Gen.OneOf<string>(["tcp", "udp", ""]),
            Gen.OneOf<string>(["Echo", "Reserved", "Unassigned", "Web pages", "de-assigned on 2010-01-01"]),
            (name, port, span, transport, description) =>
                (name, span == 0 ? $"{port}" : $"{port}-{port + span}", transport, description));

    [Fact]
    public void Each_generation_projected_from_the_one_before_is_the_projection_from_nothing()
    {
        Row.Array[1, 12].Array[2, 7].Sample(editions =>
        {
            var ledger = HistoryLedger.Empty;
            RegistryProjection? previous = null;
            for (var e = 0; e < editions.Length; e++)
            {
                ledger = ledger.Append(TestEditions.Parsed($"e{e}", new DateOnly(2000 + e, 1, 1), TestEditions.Csv(editions[e])));
                var reused = RegistryProjection.Build(ledger, previous);
                var fresh = RegistryProjection.Build(ledger);

                Assert.Equal(Describe(fresh), Describe(reused));
                previous = reused;
            }
        }, iter: 40);
    }

    private static string Describe(RegistryProjection projection)
    {
        var ports = Enumerable.Range(0, 20).Select(p => Convert.ToHexString(projection.PortHashes[p]) + ":" + Convert.ToHexString(projection.PortTimelines[p]));
        var index = projection.Index;
        return string.Join("\n", [
            .. ports,
            .. index.Versions.Select(r => $"{r.Transport} {r.PortFirst}-{r.PortLast} v{r.VersionIndex} {r.FromRank}..{r.ThroughRank} {r.Status} {Convert.ToHexString(r.StateKey)} {Convert.ToHexString(r.Version)}"),
            .. index.NameOnly.Select(r => $"{r.Transport} {r.NameLower} v{r.VersionIndex} {r.FromRank}..{r.ThroughRank} {Convert.ToHexString(r.Version)}"),
            .. index.Holdings.Select(r => $"{r.NameLower} #{r.Ordinal} {r.Open} {Convert.ToHexString(r.Holding)}"),
            .. index.Renames.Select(r => $"#{r.Ordinal} {r.FromLower}>{r.ToLower} {Convert.ToHexString(r.Link)}"),
            string.Join(",", projection.ChangeCounts),
        ]);
    }
}
