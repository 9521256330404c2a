using PortHistory.Registry.Model;
using PortHistory.Server.Application.Registry;

namespace PortHistory.Server.Application.Import;

/// <summary>
/// Where received editions enter: records them as pending, remembers them parsed, wakes the import loop, and counts
/// the uploads still arriving so that a batch of them lands in one generation.
/// </summary>
public sealed class UploadIntake(IEditionStore store, ParsedEditions parsed)
{
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
        var outcome = await store.AddPendingAsync(edition, content, origin, cancellationToken);
        for (var suffix = 'b'; revisionOfDay && outcome.Result == SubmitResult.IdTaken && suffix <= 'z'; suffix++)
        {
            var revision = edition with { Id = $"{edition.Id}{suffix}" };
            var remark = $"a later version dated {edition.EffectiveDate:yyyy-MM-dd}, like {edition.Id}";
            outcome = await store.AddPendingAsync(revision, content, (origin ?? EditionOrigin.Upload) with { Remark = origin?.Remark ?? remark }, cancellationToken);
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
