using PortHistory.Contracts.V1;
using PortHistory.Grains.Observations;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Grains.Ports;

[GrainType("port")]
public sealed class PortGrain(
    [PersistentState("port", PortGrainStorage.Name)] IPersistentState<PortGrainState> state,
    IEditionCatalog catalog,
    PortAnswerBoard board,
    TimelineInterner interner,
    ISightingJournal journal,
    IObservationContext observationContext) : Grain, IPortGrain
{
    private static readonly StoredPortRegistry NoHistory = new();

    private RegistrySlice? _parsedSlice;
    private StoredPortRegistry _timelines = NoHistory;
    private PortRegistryAnswers? _answers;
    private PortObservations _observations = null!;
    private GetPortResponse? _common;
    private long _commonGeneration = -1;
    private int _dirty;

    // The watermarks as last written to storage: only these may be recorded for the compactor, which deletes journal
    // rows below them (the in-memory ones run ahead of the stored state between checkpoints).
    private Dictionary<int, long> _storedWatermarks = [];
    private IGrainTimer? _checkpointTimer;

    private uint Port => (uint)this.GetPrimaryKeyLong();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Share the stored bytes with every other port holding the same timelines.
        var current = state.State;
        if (current.Committed is { } committed) current.Committed = committed with { Timelines = interner.Intern(committed.Timelines).Bytes };
        if (current.Staged is { } staged) current.Staged = staged with { Timelines = interner.Intern(staged.Timelines).Bytes };

        // Sightings journaled after the last checkpoint (a crash, or deliveries to an activation that is gone).
        _observations = new PortObservations(Port, current.Observed, observationContext);
        _storedWatermarks = new Dictionary<int, long>(current.Observed.Watermarks);
        await CatchUpAsync(cancellationToken);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        board.Withdraw((int)Port);
        if (_dirty > 0)
        {
            try
            {
                await CheckpointAsync();
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // The journal still holds everything: the next activation catches up.
            }
        }
    }

    public Task<Immutable<GetPortResponse>> GetPortAsync(PortQuery query)
    {
        var answers = Answers();
        if (PortQuery.IsCommon(query) && _common is not null && _commonGeneration == answers.Catalog.Generation)
        {
            return Task.FromResult(new Immutable<GetPortResponse>(_common));
        }

        var response = answers.GetPort(query).Clone();
        response.Observed = _observations.Summary(query.IncludeHostRefs, query.Transport);
        foreach (var (transport, result, _) in _observations.Verdicts(answers.Now))
        {
            if (query.Transport == Transport.Unspecified || query.Transport == transport) response.Verdicts.Add(PortObservations.ToContract(transport, result));
        }

        if (PortQuery.IsCommon(query))
        {
            _common = response;
            _commonGeneration = answers.Catalog.Generation;
            board.Publish((int)Port, answers.Catalog.Generation, response);
        }

        return Task.FromResult(new Immutable<GetPortResponse>(response));
    }

    public Task<Immutable<GetTimelineResponse>> GetTimelineAsync(Transport transport) =>
        Task.FromResult(new Immutable<GetTimelineResponse>(Answers().GetTimeline(transport)));

    public Task<Immutable<GetObservedResponse>> GetObservedAsync(Transport transport, bool includeHostRefs)
    {
        var answers = Answers();
        var response = new GetObservedResponse { Observed = _observations.Summary(includeHostRefs, transport) };
        foreach (var (t, result, _) in _observations.Verdicts(answers.Now))
        {
            if (transport == Transport.Unspecified || transport == t) response.Verdicts.Add(PortObservations.ToContract(t, result));
        }

        return Task.FromResult(new Immutable<GetObservedResponse>(response));
    }

    public async Task ObserveAsync(Immutable<ObservationDelta[]> deltas)
    {
        // Entries of a writer between what was applied and its delta never arrived: read them from the journal.
        if (deltas.Value.Any(d => d.PreviousSeq > _observations.Watermark(d.Writer))) await CatchUpAsync(CancellationToken.None);
        foreach (var delta in deltas.Value) Applied(_observations.Apply(delta.Writer, delta.Entries));
        if (_dirty >= observationContext.CheckpointEvery) await CheckpointAsync();
    }

    public async Task RefreshVerdictsAsync()
    {
        Invalidate();
        if (_observations.HasObservations) await journal.RecordCheckpointAsync((int)Port, _storedWatermarks, _observations.IndexRows(Answers().Now), CancellationToken.None);
    }

    public async Task StageRegistryAsync(long generation, long[] abortedGenerations, Immutable<byte[]> timelines)
    {
        var current = state.State;
        if (current.Staged is { } staged)
        {
            // A replay of the same stage (a retried import) or an older one changes nothing.
            if (staged.Generation >= generation) return;

            // The importer holds the only lock: every earlier generation not aborted has committed.
            if (!abortedGenerations.Contains(staged.Generation)) current.Committed = staged;
        }

        var (committedBefore, stagedBefore) = (current.Committed, current.Staged);
        current.Staged = new RegistrySlice(generation, interner.Intern(timelines.Value).Bytes);
        Invalidate();
        try
        {
            await WriteStateAsync();
        }
        catch
        {
            // Not stored: a retry of this stage must write it again, not find it already in memory.
            (current.Committed, current.Staged) = (committedBefore, stagedBefore);
            Invalidate();
            throw;
        }

        await AfterWriteAsync();
    }

    public Task<RegistryGenerations> GetRegistryGenerationsAsync() =>
        Task.FromResult(new RegistryGenerations(state.State.Committed?.Generation, state.State.Staged?.Generation, Visible()?.Generation ?? 0));

    /// <summary>Writes the state now (normally done every so many sightings or every few seconds).</summary>
    public Task CheckpointNowAsync() => _dirty > 0 ? CheckpointAsync() : Task.CompletedTask;

    private async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        var missed = await journal.ReadAfterAsync((int)Port, state.State.Observed.Watermarks, cancellationToken);
        // Rows come ordered by writer and sequence.
        foreach (var writer in missed.GroupBy(m => m.Writer))
        {
            Applied(_observations.Apply(writer.Key, [.. writer.Select(m => m.Entry)]));
        }
    }

    private void Applied(int count)
    {
        if (count == 0) return;
        Invalidate();
        _dirty += count;
        _checkpointTimer ??= this.RegisterGrainTimer(() => _dirty > 0 ? CheckpointAsync() : Task.CompletedTask,
            new GrainTimerCreationOptions(observationContext.CheckpointInterval, observationContext.CheckpointInterval) { Interleave = false });
    }

    private async Task CheckpointAsync()
    {
        await WriteStateAsync();
        await AfterWriteAsync();
    }

    private async Task WriteStateAsync()
    {
        try
        {
            await state.WriteStateAsync();
            _storedWatermarks = new Dictionary<int, long>(state.State.Observed.Watermarks);
        }
        catch (Exception e) when (DatabaseFailure(e) is { } database)
        {
            throw new PortStorageException($"port {Port}: writing its state failed: {database.Message}", database.IsTransient);
        }
    }

    /// <summary>The database's exception, which the storage provider hands on wrapped in its own.</summary>
    private static System.Data.Common.DbException? DatabaseFailure(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is System.Data.Common.DbException database) return database;
        }

        return null;
    }

    /// <summary>After any state write: the journal below the watermarks is applied for good, and the index learns the verdicts.</summary>
    private async Task AfterWriteAsync()
    {
        var written = _dirty;
        if (_observations.HasObservations)
        {
            await journal.RecordCheckpointAsync((int)Port, _storedWatermarks, _observations.IndexRows(Answers().Now), CancellationToken.None);
        }

        _dirty -= Math.Min(_dirty, written);
        if (_dirty == 0 && _checkpointTimer is not null)
        {
            _checkpointTimer.Dispose();
            _checkpointTimer = null;
        }
    }

    private void Invalidate()
    {
        _common = null;
        board.Withdraw((int)Port);
    }

    /// <summary>The staged slice once its generation has committed, else the committed one.</summary>
    private RegistrySlice? Visible()
    {
        var staged = state.State.Staged;
        return staged is not null && catalog.IsCommitted(staged.Generation) ? staged : state.State.Committed;
    }

    private PortRegistryAnswers Answers()
    {
        var slice = Visible();
        if (!ReferenceEquals(slice, _parsedSlice))
        {
            _parsedSlice = slice;
            _timelines = slice is null ? NoHistory : interner.Intern(slice.Timelines).Timelines;
            _answers = null;
            Invalidate();
        }

        var snapshot = catalog.Current;
        if (_answers is null || _answers.Catalog != snapshot) _answers = new PortRegistryAnswers(Port, _timelines, snapshot);
        return _answers;
    }
}
