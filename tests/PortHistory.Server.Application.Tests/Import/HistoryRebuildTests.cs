using PortHistory.Server.Application.Import;

namespace PortHistory.Server.Application.Tests.Import;

/// <summary>
/// A rebuild derives the history from the originals and names what parses differently now (that an original gives back
/// what was received is tested at the gateway: RegistryApiTests).
/// </summary>
public sealed class HistoryRebuildTests
{
    private static readonly DateOnly First = new(2020, 1, 1);
    private static readonly DateOnly Second = new(2021, 1, 1);

    private readonly FakeEditionStore _editions = new();
    private readonly FakeImporter _importer;

    public HistoryRebuildTests()
    {
        _importer = new FakeImporter(_editions);
    }

    [Fact]
    public async Task A_rebuild_of_what_parses_as_before_reports_nothing_and_changes_no_port()
    {
        await _importer.ImportAsync("first", First, ("http", 80, "WWW"));
        await _importer.ImportAsync("second", Second, ("http", 80, "World Wide Web"), ("https", 443, "TLS"));
        _importer.Grains.StageCalls.Clear();

        var reports = await RebuildAsync();

        Assert.DoesNotContain(reports, r => r.Finding is not null);
        var result = reports[^1].Result!;
        Assert.Equal((2, 0, 0), (result.Editions, result.Differing, result.PortsChanged));
        Assert.NotNull(result.Generation);
        Assert.Empty(_importer.Grains.StageCalls);
        // The history derived again is the same: no index row is written.
        Assert.Equal(0, result.IndexChanges!.RowsWritten + result.IndexChanges.RowsDeleted);
    }

    [Fact]
    public async Task An_edition_whose_parse_differs_from_what_was_recorded_is_named_and_recorded_anew()
    {
        await _importer.ImportAsync("first", First, ("http", 80, "WWW"));
        var i = _editions.Editions.FindIndex(e => e.Id == "first");
        // As if the parser that received it had read one record more.
        _editions.Editions[i] = _editions.Editions[i] with { Records = 2, ParseDigest = new byte[32] };

        var reports = await RebuildAsync();

        var finding = Assert.Single(reports, r => r.Finding is not null).Finding!.Value;
        Assert.Equal(("first", "2 → 1 records"), finding);
        Assert.Equal(1, reports[^1].Result!.Differing);
        Assert.StartsWith("rebuilt ", _editions.Remarks["first"], StringComparison.Ordinal);
        Assert.DoesNotContain(await RebuildAsync(), r => r.Finding is not null);
    }

    [Fact]
    public async Task An_original_that_no_longer_matches_its_hash_stops_the_rebuild_before_anything_is_committed()
    {
        // Bytes no other test imports: the originals are kept by SHA-256 for the whole test run, and a test importing
        // the same bytes at the same time would put the untampered original back.
        await _importer.ImportAsync("first", First, ("http", 80, "WWW to be tampered with"));
        var commits = _importer.Generations.Commits.Count;
        var stored = _editions.Editions.Single();
        TestEditions.Originals[stored.Sha256] = TestEditions.Csv(("http", 80, "tampered"));

        var reports = await RebuildAsync();

        Assert.Contains("cannot be read", reports.Single(r => r.Finding is not null).Finding!.Value.Difference, StringComparison.Ordinal);
        Assert.Null(reports[^1].Result!.Generation);
        Assert.Equal(commits, _importer.Generations.Commits.Count);
    }

    private async Task<List<RebuildReport>> RebuildAsync()
    {
        var reports = new List<RebuildReport>();
        await foreach (var report in _importer.Rebuild.RunAsync(CancellationToken.None)) reports.Add(report);
        return reports;
    }
}
