using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Polly;
using PortHistory.Contracts.V1;
using PortHistory.Registry.Formats;
using PortHistory.Registry.Model;
using PortHistory.Server.Application.Registry;
using PortHistory.Server.Application.Resilience;

namespace PortHistory.Server.Application.Import;

/// <summary>An edition file as received: its bytes, where they came from, and the caller's choices for reading it.</summary>
/// <param name="ServerFile">Read from the server's import directory: its content is not the caller's to see.</param>
/// <param name="Origin">Where the caller took the file from (a URL, a git commit), kept with the edition.</param>
/// <param name="RevisionOfDay">A file dated like an edition held, with other content, is a later version of that day rather than a conflict.</param>
public sealed record EditionUpload(byte[] Bytes, string Source, EditionReadOptions ReadOptions, bool ServerFile, EditionOrigin? Origin = null,
    bool RevisionOfDay = false);

/// <summary>One step of an import as the caller sees it.</summary>
public sealed record ImportReport(ImportStage Stage, string Message, int Done = 0, int Total = 0, long Generation = 0)
{
    /// <summary>The parsed edition (with <see cref="ImportStage.Parsed"/>).</summary>
    public RegistryEdition? Parsed { get; init; }

    /// <summary>The stored edition (with the final report).</summary>
    public FoundEdition? Edition { get; init; }
}

/// <summary>An edition id already names a different file.</summary>
public sealed class EditionIdTakenException(string editionId, string? existingSha256)
    : Exception($"edition_id: \"{editionId}\" is already used by a different file (sha256 {existingSha256}); give this one another id");

/// <summary>The generation that was to apply an edition failed; the edition stays pending and is retried.</summary>
public sealed class ImportFailedException(string editionId, string reason)
    : Exception($"applying {editionId} failed: {reason}; it stays pending and is retried (re-running the import waits for it)");

/// <summary>
/// One ImportEdition call: parses a received edition (a malformed file is refused and nothing is stored), records it
/// as pending, and follows the importer's progress until the generation containing it commits.
/// </summary>
public sealed class EditionImport(UploadIntake intake, IEditionStore editions, ImportProgressHub progress, ImportDirectory importDirectory,
    ILogger<EditionImport> logger)
{
    /// <summary>How long to wait for news from this silo's importer before asking the database (another silo may have applied it).</summary>
    private static readonly TimeSpan QuietCheck = TimeSpan.FromSeconds(2);

    private readonly ResiliencePipeline _lookups = Backoff.Attempts(UploadIntake.DatabaseAttempts, logger, "Looking up an imported edition", DatabaseErrors.IsUnavailable);

    /// <summary>Counted from the start of a call: the importer holds back a generation while uploads are under way.</summary>
    public IDisposable TrackUpload() => intake.TrackUpload();

    /// <exception cref="ImportPathException">The path is refused.</exception>
    public Task<(byte[] Bytes, string Source)> ReadServerFileAsync(string path, CancellationToken cancellationToken) =>
        importDirectory.ReadAsync(path, cancellationToken);

    /// <summary>
    /// Parses, submits and follows an edition until it is committed (or found already imported). The upload's
    /// tracking ends once the edition is stored.
    /// </summary>
    /// <exception cref="EditionFormatException">An uploaded file is not a readable edition.</exception>
    /// <exception cref="ImportPathException">A server file is not a readable edition (the reason is logged, not told).</exception>
    /// <exception cref="EditionIdTakenException">The edition's id names another file.</exception>
    /// <exception cref="ImportFailedException">Applying it failed; it stays pending.</exception>
    public async IAsyncEnumerable<ImportReport> ImportAsync(EditionUpload upload, IDisposable tracking,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var edition = Parse(upload);
        var parsedAt = clock.Elapsed;
        yield return new ImportReport(ImportStage.Parsed, $"{edition.Id}: {edition.Records.Length} records, {edition.Warnings.Length} warnings") { Parsed = edition };

        using var watch = progress.Follow(edition.Id);
        var outcome = await intake.SubmitAsync(edition, upload.Bytes, upload.Origin, cancellationToken, upload.RevisionOfDay, tracking);
        tracking.Dispose();
        logger.LogInformation("Received {Edition} ({Bytes} bytes, {Records} records): {Result} (parse {Parse:0.000}s, store {Store:0.000}s)",
            outcome.EditionId, upload.Bytes.Length, edition.Records.Length, outcome.Result, parsedAt.TotalSeconds, (clock.Elapsed - parsedAt).TotalSeconds);
        switch (outcome.Result)
        {
            case SubmitResult.IdTaken:
                throw new EditionIdTakenException(outcome.EditionId, outcome.ExistingSha256);
            case SubmitResult.AlreadyImported:
                yield return await FinalAsync(outcome.EditionId, ImportStage.AlreadyImported, "already imported; nothing changed", cancellationToken);
                yield break;
        }

        yield return new ImportReport(ImportStage.Queued, $"{outcome.EditionId} is queued for the next generation");
        using var following = outcome.EditionId == edition.Id ? null : progress.Follow(outcome.EditionId);
        var events = (following ?? watch).Events.Reader;
        while (await NextAsync(events, outcome.EditionId, cancellationToken) is { } next)
        {
            if (next.Failure is not null) throw new ImportFailedException(outcome.EditionId, next.Message);
            if (next.Stage == ImportStage.Committed) break;
            yield return new ImportReport(next.Stage, next.Message, next.Done, next.Total, next.Generation);
        }

        yield return await FinalAsync(outcome.EditionId, ImportStage.Committed, "committed", cancellationToken);
    }

    private RegistryEdition Parse(EditionUpload upload)
    {
        try
        {
            return EditionReader.Read(new EditionContent(upload.Bytes, upload.Source), upload.ReadOptions);
        }
        catch (EditionFormatException e) when (upload.ServerFile)
        {
            // A file of the server's own: its content is not the caller's to read, so the reason stays in the log.
            logger.LogWarning("Import of {Path} refused: {Reason}", upload.Source, e.Message);
            var where = e.Line is { } at ? $" at line {at}" : "";
            throw new ImportPathException($"{upload.Source} is not a readable edition{where}; the reason is in the server log");
        }
    }

    /// <summary>This silo importer's next event for the edition; null once the edition is no longer pending (another silo applied it).</summary>
    private async Task<ImportEvent?> NextAsync(ChannelReader<ImportEvent> events, string editionId, CancellationToken cancellationToken)
    {
        while (true)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(QuietCheck);
            try
            {
                return await events.ReadAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                if (await FindAsync(editionId, cancellationToken) is { Pending: false }) return null;
            }
        }
    }

    private async Task<ImportReport> FinalAsync(string editionId, ImportStage stage, string message, CancellationToken cancellationToken)
    {
        var found = await FindAsync(editionId, cancellationToken);
        return new ImportReport(stage, $"{editionId}: {message}", Generation: found?.Generation ?? 0) { Edition = found };
    }

    private async Task<FoundEdition?> FindAsync(string editionId, CancellationToken cancellationToken) =>
        await _lookups.ExecuteAsync(async token => await editions.FindAsync(editionId, token), cancellationToken);
}

/// <summary>
/// Where received editions enter: records them as pending, remembers them parsed, wakes the import loop, and counts
/// the uploads still arriving so that a batch of them lands in one generation.
/// </summary>
public sealed class UploadIntake(IEditionStore store, ParsedEditions parsed, ILogger<UploadIntake> logger)
{
    /// <summary>
    /// How often an import's own statements (storing the upload, looking it up) are tried. They are short and safe to
    /// repeat (the same bytes are found stored), so a database slow to accept a connection or restarting does not fail
    /// an upload that sending again would finish anyway.
    /// </summary>
    public const int DatabaseAttempts = 5;

    private readonly ResiliencePipeline _stores = Backoff.Attempts(DatabaseAttempts, logger, "Storing a received edition", DatabaseErrors.IsUnavailable);
    private readonly SemaphoreSlim _submitted = new(0);
    private int _receiving;

    /// <summary>True while an upload is under way: the importer does not start a generation yet.</summary>
    public bool IsReceiving => Volatile.Read(ref _receiving) > 0;

    /// <summary>Marks an upload in progress until disposed: the importer does not start a generation while uploads are still arriving.</summary>
    public IDisposable TrackUpload()
    {
        Interlocked.Increment(ref _receiving);
        return new UploadScope(this);
    }

    /// <summary>
    /// Records an edition as pending, with its original and where it came from; the importer picks it up within its
    /// batch window. With <paramref name="revisionOfDay"/>, a file whose id (its date) is taken by another file is a
    /// later version of that day (the registry changed without a new date): it takes the next free id of the day,
    /// "…-17b", "…-17c", which sort after it.
    /// </summary>
    /// <param name="tracking">The upload's tracking (<see cref="TrackUpload"/>): it ends once the edition is stored, before the importer is woken, so
    /// that the importer does not wait for this very upload.</param>
    public async Task<SubmitOutcome> SubmitAsync(RegistryEdition edition, ReadOnlyMemory<byte> content, EditionOrigin? origin, CancellationToken cancellationToken,
        bool revisionOfDay = false, IDisposable? tracking = null)
    {
        var outcome = await AddPendingAsync(edition, content, origin, cancellationToken);
        for (var suffix = 'b'; revisionOfDay && outcome.Result == SubmitResult.IdTaken && suffix <= 'z'; suffix++)
        {
            var revision = edition with { Id = $"{edition.Id}{suffix}" };
            var remark = $"a later version dated {edition.EffectiveDate:yyyy-MM-dd}, like {edition.Id}";
            outcome = await AddPendingAsync(revision, content, (origin ?? EditionOrigin.Upload) with { Remark = origin?.Remark ?? remark }, cancellationToken);
            if (outcome.Result == SubmitResult.Queued) edition = revision;
        }

        tracking?.Dispose();
        if (outcome.Result == SubmitResult.Queued)
        {
            parsed.Remember(edition);
            _submitted.Release();
        }

        return outcome;
    }

    private async Task<SubmitOutcome> AddPendingAsync(RegistryEdition edition, ReadOnlyMemory<byte> content, EditionOrigin? origin, CancellationToken cancellationToken) =>
        await _stores.ExecuteAsync(async token => await store.AddPendingAsync(edition, content, origin, token), cancellationToken);

    /// <summary>Waits for a submission to this silo; false when the timeout passes first.</summary>
    public Task<bool> WaitForSubmissionAsync(TimeSpan timeout, CancellationToken cancellationToken) => _submitted.WaitAsync(timeout, cancellationToken);

    /// <summary>Forgets the submissions so far: the generation about to start takes them all.</summary>
    public async Task TakeSubmissionsAsync(CancellationToken cancellationToken)
    {
        while (_submitted.CurrentCount > 0) await _submitted.WaitAsync(cancellationToken);
    }

    private sealed class UploadScope(UploadIntake intake) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) Interlocked.Decrement(ref intake._receiving);
        }
    }
}
