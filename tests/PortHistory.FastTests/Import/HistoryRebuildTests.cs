using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.FastTests.Support;
using PortHistory.Server.Apis;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Import;
using PortHistory.Server.Application.Registry;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.FastTests.Import;

/// <summary>The originals give back what was received, and a rebuild derives the history from them and names what parses differently now.</summary>
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

    private async Task ImportAsync(string id, DateOnly date, params (string, int, string)[] rows)
    {
        var content = TestEditions.Csv(rows);
        var parsed = TestEditions.Parsed(id, date, content);
        await _editions.AddPendingAsync(parsed, content, null, CancellationToken.None);
        var i = _editions.Editions.FindIndex(e => e.Id == id);
        _editions.Editions[i] = _editions.Editions[i] with { Records = parsed.Records.Length, ParseDigest = ParseDigest.Of(parsed) };
        await _importer.Lifecycle.ApplyPendingAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_rebuild_of_what_parses_as_before_reports_nothing_and_changes_no_port()
    {
        await ImportAsync("first", First, ("http", 80, "WWW"));
        await ImportAsync("second", Second, ("http", 80, "World Wide Web"), ("https", 443, "TLS"));
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
        await ImportAsync("first", First, ("http", 80, "WWW"));
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
        await ImportAsync("first", First, ("http", 80, "WWW"));
        var commits = _importer.Generations.Commits.Count;
        var stored = _editions.Editions.Single();
        TestEditions.Originals[stored.Sha256] = TestEditions.Csv(("http", 80, "tampered"));

        var reports = await RebuildAsync();

        Assert.Contains("cannot be read", reports.Single(r => r.Finding is not null).Finding!.Value.Difference, StringComparison.Ordinal);
        Assert.Null(reports[^1].Result!.Generation);
        Assert.Equal(commits, _importer.Generations.Commits.Count);
    }

    [Fact]
    public async Task ExportEdition_sends_the_summary_then_the_original_bytes_in_order()
    {
        var rows = Enumerable.Range(1, 20_000).Select(p => ($"svc{p}", p, "a description long enough to need several messages")).ToArray();
        await ImportAsync("large", First, rows);
        var api = new RegistryAdminApi(
            new EditionImport(new UploadIntake(_editions, new ParsedEditions()), _editions, new ImportProgressHub(new PortHistoryMetrics()),
                new ImportDirectory(Options.Create(new ImportOptions())), NullLogger<EditionImport>.Instance),
            _editions, _importer.Rebuild, Options.Create(new ImportOptions()));
        var responses = new Responses<ExportEditionChunk>();

        await api.ExportEdition(new ExportEditionRequest { EditionId = "large" }, responses, new TestServerCallContext());

        Assert.Equal("large", responses.Written[0].Edition.Id);
        Assert.True(responses.Written.Count > 2);
        Assert.Equal(TestEditions.Csv(rows), responses.Written.Skip(1).SelectMany(c => c.Data.ToByteArray()).ToArray());
        var unknown = await Assert.ThrowsAsync<RpcException>(() => api.ExportEdition(new ExportEditionRequest { EditionId = "nope" }, responses, new TestServerCallContext()));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
    }

    private async Task<List<RebuildReport>> RebuildAsync()
    {
        var reports = new List<RebuildReport>();
        await foreach (var report in _importer.Rebuild.RunAsync(CancellationToken.None)) reports.Add(report);
        return reports;
    }
}
