using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Registry.Formats;
using PortHistory.Server.Apis;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Import;
using PortHistory.Server.Application.Registry;
using PortHistory.Server.Application.Telemetry;
using PortHistory.Server.Application.Tests.Import;

namespace PortHistory.Server.UnitTests.Import;

public sealed class EditionImportTests
{
    private static readonly DateOnly Date = new(2020, 1, 1);
    private static readonly byte[] Http = TestEditions.Csv(("http", 80, "WWW"));

    private readonly FakeEditionStore _editions = new();
    private readonly ImportProgressHub _progress = new(new PortHistoryMetrics());
    private readonly UploadIntake _intake;
    private readonly EditionImport _import;

    public EditionImportTests()
    {
        _intake = new UploadIntake(_editions, new ParsedEditions(), NullLogger<UploadIntake>.Instance);
        _import = new EditionImport(_intake, _editions, _progress, new ImportDirectory(Options.Create(new ImportOptions())), NullLogger<EditionImport>.Instance);
    }

    private static EditionUpload Upload(byte[] bytes, string id = "http", bool serverFile = false) =>
        new(bytes, $"{id}.csv", new EditionReadOptions { Format = Registry.Model.EditionFileFormat.IanaCsv, EffectiveDate = Date, Id = id }, serverFile);

    [Fact]
    public async Task A_new_edition_is_queued_and_wakes_the_importer_and_the_same_bytes_under_another_id_join_it()
    {
        Assert.Equal(SubmitResult.Queued, (await _intake.SubmitAsync(TestEditions.Parsed("http", Date, Http), Http, null, default)).Result);
        Assert.True(await _intake.WaitForSubmissionAsync(TimeSpan.Zero, default));
        Assert.False(await _intake.WaitForSubmissionAsync(TimeSpan.Zero, default));

        var again = await _intake.SubmitAsync(TestEditions.Parsed("other-name", Date, Http), Http, null, default);
        Assert.Equal((SubmitResult.Queued, "http"), (again.Result, again.EditionId));
        Assert.Single(_editions.Editions);
    }

    [Fact]
    public async Task An_upload_is_tracked_until_its_edition_is_stored()
    {
        var tracking = _import.TrackUpload();
        Assert.True(_intake.IsReceiving);
        await using var reports = _import.ImportAsync(Upload(Http), tracking, default).GetAsyncEnumerator();

        Assert.True(await reports.MoveNextAsync());
        Assert.Equal(ImportStage.Parsed, reports.Current.Stage);
        Assert.True(_intake.IsReceiving);
        Assert.True(await reports.MoveNextAsync());
        Assert.Equal(ImportStage.Queued, reports.Current.Stage);
        Assert.False(_intake.IsReceiving);
    }

    [Fact]
    public async Task Already_imported_bytes_end_the_import_at_once_naming_the_stored_edition()
    {
        _editions.Editions.Add(TestEditions.Stored("earlier-name", Date, pending: false, Http));
        _editions.MarkCommitted(["earlier-name"], 3);

        var reports = await Collect(_import.ImportAsync(Upload(Http), _import.TrackUpload(), default));

        Assert.Equal([ImportStage.Parsed, ImportStage.AlreadyImported], reports.Select(r => r.Stage));
        Assert.Equal("earlier-name: already imported; nothing changed", reports[^1].Message);
        Assert.Equal(3, reports[^1].Generation);
        Assert.False(await _intake.WaitForSubmissionAsync(TimeSpan.Zero, default));
    }

    [Fact]
    public async Task An_id_used_by_another_file_is_refused_as_already_existing()
    {
        _editions.Editions.Add(TestEditions.Stored("http", Date, pending: false, TestEditions.Csv(("http", 80, "something else"))));

        var taken = await Assert.ThrowsAsync<EditionIdTakenException>(() => Collect(_import.ImportAsync(Upload(Http), _import.TrackUpload(), default)));

        var status = RpcErrorMapping.Refusal(taken)!.Status;
        Assert.Equal(StatusCode.AlreadyExists, status.StatusCode);
        Assert.StartsWith("edition_id: \"http\" is already used by a different file", status.Detail);
        Assert.Single(_editions.Editions);
    }

    [Fact]
    public async Task The_import_follows_the_generation_until_it_commits()
    {
        await using var reports = _import.ImportAsync(Upload(Http), _import.TrackUpload(), default).GetAsyncEnumerator();
        Assert.True(await reports.MoveNextAsync());
        Assert.True(await reports.MoveNextAsync());
        Assert.Equal((ImportStage.Queued, "http is queued for the next generation"), (reports.Current.Stage, reports.Current.Message));

        _progress.Publish(["http"], new ImportEvent(ImportStage.Staging, "staging 1 changed ports in generation 5", 0, 1, 5));
        _editions.MarkCommitted(["http"], 5);
        _progress.Publish(["http"], new ImportEvent(ImportStage.Committed, "committed in generation 5", 1, 1, 5));

        Assert.True(await reports.MoveNextAsync());
        Assert.Equal((ImportStage.Staging, 0, 1, 5L), (reports.Current.Stage, reports.Current.Done, reports.Current.Total, reports.Current.Generation));
        Assert.True(await reports.MoveNextAsync());
        Assert.Equal((ImportStage.Committed, "http: committed", 5L), (reports.Current.Stage, reports.Current.Message, reports.Current.Generation));
        Assert.Equal("http", reports.Current.Edition?.Summary.Id);
        Assert.False(await reports.MoveNextAsync());
    }

    [Fact]
    public async Task An_import_rides_out_a_database_that_refuses_a_few_connections()
    {
        _editions.Unreachable = 2;
        await using var reports = _import.ImportAsync(Upload(Http), _import.TrackUpload(), default).GetAsyncEnumerator();
        Assert.True(await reports.MoveNextAsync());
        Assert.True(await reports.MoveNextAsync());
        Assert.Equal(ImportStage.Queued, reports.Current.Stage);
        Assert.Equal(3, _editions.Calls);

        _editions.MarkCommitted(["http"], 5);
        _editions.Unreachable = 2;
        _progress.Publish(["http"], new ImportEvent(ImportStage.Committed, "committed in generation 5", 1, 1, 5));

        Assert.True(await reports.MoveNextAsync());
        Assert.Equal((ImportStage.Committed, 5L), (reports.Current.Stage, reports.Current.Generation));
        Assert.Equal(6, _editions.Calls);
        Assert.Single(_editions.Editions);
    }

    [Fact]
    public async Task An_import_whose_database_stays_unreachable_fails_as_unavailable_after_its_attempts()
    {
        _editions.Unreachable = UploadIntake.DatabaseAttempts;

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => Collect(_import.ImportAsync(Upload(Http), _import.TrackUpload(), default)));

        Assert.True(Application.Resilience.DatabaseErrors.IsUnavailable(failure));
        Assert.Equal(UploadIntake.DatabaseAttempts, _editions.Calls);
        Assert.Empty(_editions.Editions);
        Assert.False(await _intake.WaitForSubmissionAsync(TimeSpan.Zero, default));
    }

    [Fact]
    public async Task A_failed_generation_fails_the_import_as_unavailable_and_the_edition_stays_pending()
    {
        await using var reports = _import.ImportAsync(Upload(Http), _import.TrackUpload(), default).GetAsyncEnumerator();
        Assert.True(await reports.MoveNextAsync());
        Assert.True(await reports.MoveNextAsync());

        _progress.Publish(["http"], new ImportEvent(ImportStage.Unspecified, "PostgreSQL: connection refused", Failure: new IOException()));

        var failed = await Assert.ThrowsAsync<ImportFailedException>(async () => await reports.MoveNextAsync());
        var status = RpcErrorMapping.Refusal(failed)!.Status;
        Assert.Equal(StatusCode.Unavailable, status.StatusCode);
        Assert.StartsWith("applying http failed: PostgreSQL: connection refused; it stays pending", status.Detail);
        Assert.True(_editions.Editions.Single().Pending);
    }

    [Fact]
    public async Task A_malformed_upload_is_refused_with_its_line_and_reason_and_nothing_is_stored()
    {
        var broken = "not,a,header\r\n"u8.ToArray();

        var refused = await Assert.ThrowsAsync<EditionFormatException>(() => Collect(_import.ImportAsync(Upload(broken), _import.TrackUpload(), default)));

        var error = RpcErrorMapping.Refusal(refused)!;
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("file: http.csv:1: ", error.Status.Detail);
        Assert.Equal("1", error.Trailers.GetValue("edition-line"));
        Assert.Equal(refused.Reason, error.Trailers.GetValue("edition-reason"));
        Assert.Empty(_editions.Editions);
    }

    [Fact]
    public async Task A_malformed_server_file_is_refused_without_telling_its_content()
    {
        var secret = "password=hunter2\r\n"u8.ToArray();

        var refused = await Assert.ThrowsAsync<ImportPathException>(
            () => Collect(_import.ImportAsync(Upload(secret, serverFile: true), _import.TrackUpload(), default)));

        var error = RpcErrorMapping.Refusal(refused)!;
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("server_path: http.csv is not a readable edition at line 1; the reason is in the server log", error.Status.Detail);
        Assert.DoesNotContain("hunter2", error.Status.Detail);
        // The only trailer is the field's BadRequest detail, which says what the message says.
        var trailer = Assert.Single(error.Trailers);
        Assert.Equal(Requests.StatusDetailsTrailer, trailer.Key);
        Assert.DoesNotContain("hunter2", System.Text.Encoding.UTF8.GetString(trailer.ValueBytes));
    }

    private static async Task<List<ImportReport>> Collect(IAsyncEnumerable<ImportReport> reports)
    {
        var all = new List<ImportReport>();
        await foreach (var report in reports) all.Add(report);
        return all;
    }
}
