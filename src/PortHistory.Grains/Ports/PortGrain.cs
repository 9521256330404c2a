// Over 250 lines and ten dependencies: the grain only orders the steps of one port; each step is a type of its own (registry view, observations, checkpoints, watch feed, quoted past).
using Microsoft.Extensions.Logging;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Observations;

namespace PortHistory.Grains.Ports;

/// <summary>
/// One port: its registry history (<see cref="PortRegistryView"/>) and what fleets observe on it
/// (<see cref="PortObservations"/>), answered from memory. The grain itself only orders the steps: what it holds is
/// written to storage before the journal is told it may compact, and a write that fails leaves memory as stored.
/// A database failure reaches callers as a <see cref="PortStorageException"/>: the driver's own exceptions do not
/// serialize, and a caller on another silo would get a codec error instead of something to retry.
/// </summary>
[GrainType("port")]
public sealed class PortGrain(
    [PersistentState("port", PortGrainStorage.Name)] IPersistentState<PortGrainState> state,
    IEditionCatalog catalog,
    PortAnswerBoard board,
    TimelineInterner interner,
    ISightingJournal journal,
    IObservationContext observationContext,
    IWatchEventSink watchEvents,
    IExpectationCatalog expectations,
    ILocalServiceTables localTables,
    ILogger<PortGrain> logger) : Grain, IPortGrain, IIncomingGrainCallFilter
{
    private static readonly TimeSpan FirstEventRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LastEventRetry = TimeSpan.FromMinutes(1);

    private PortRegistryView _registry = null!;
    private PortObservations _observations = null!;
    private ObservationCheckpoints _checkpoints = null!;
    private CommonAnswer _common = null!;
    private QuotedPast _quoted = null!;
    private PortWatchFeed _watch = null!;
    private IGrainTimer? _eventRetry;
    private TimeSpan _eventRetryDelay = FirstEventRetry;

    private uint Port => (uint)this.GetPrimaryKeyLong();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _common = new CommonAnswer((int)Port, board);
        _quoted = new QuotedPast((int)Port, observationContext.History, observationContext.Clock,
            (callback, due) => this.RegisterGrainTimer(callback, new GrainTimerCreationOptions(due, Timeout.InfiniteTimeSpan) { Interleave = false }),
            _common.Withdraw);
        _registry = new PortRegistryView(Port, state.State, catalog, interner);
        _registry.SliceChanged += _common.Withdraw;
        _registry.InternStored();
        // A port never observed starts its watch feed now; one observed before the feed existed starts at its first judgement.
        if (state.State.Observed.Transports.Count == 0) state.State.Observed.RaisedVerdicts ??= [];
        _observations = new PortObservations(Port, state.State.Observed, observationContext, expectations, localTables);
        _watch = new PortWatchFeed(Port, observationContext);
        _checkpoints = new ObservationCheckpoints(observationContext.CheckpointEvery, () => this.RegisterGrainTimer(
            () => _checkpoints.HasUnwritten ? CheckpointAsync() : Task.CompletedTask,
            new GrainTimerCreationOptions(observationContext.CheckpointInterval, observationContext.CheckpointInterval) { Interleave = false }));
        _checkpoints.Stored(state.State.Observed.Watermarks);

        // Sightings journaled after the last checkpoint (a crash, or deliveries to an activation that is gone).
        await Stored(() => CatchUpAsync(cancellationToken));
    }

    public Task Invoke(IIncomingGrainCallContext context) => Stored(context.Invoke);

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _common.Withdraw();
        if (!_checkpoints.HasUnwritten) return;
        try
        {
            await CheckpointAsync();
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // The journal still holds everything: the next activation catches up, and decides the pending events again
            // from the state stored without them.
            logger.LogWarning("Port {Port}: the checkpoint at deactivation failed ({Pending} watch event(s) pending, decided again by the next activation): {Message}",
                Port, _watch.Pending.Count, e.Message.Split('\n')[0]);
        }
    }

    public async Task<Immutable<GetPortResponse>> GetPortAsync(PortQuery query)
    {
        var answers = _registry.Answers();
        var common = PortQuery.IsCommon(query);
        if (common && _common.Get(answers.Catalog.Generation) is { } kept) return new Immutable<GetPortResponse>(kept);

        var response = answers.GetPort(query).Clone();
        response.Observed = _observations.Summary(query.IncludeHostRefs, query.Transport);
        response.Verdicts.AddRange(_observations.ContractVerdicts(answers.Now, query.Transport));
        await _quoted.QuoteAsync(response.Verdicts);
        response.Local.AddRange(localTables.For((int)Port, query.Transport));
        if (common) _common.Keep(answers.Catalog.Generation, response);
        return new Immutable<GetPortResponse>(response);
    }

    public Task<Immutable<GetTimelineResponse>> GetTimelineAsync(Transport transport) =>
        Task.FromResult(new Immutable<GetTimelineResponse>(_registry.Answers().GetTimeline(transport)));

    public async Task<Immutable<GetObservedResponse>> GetObservedAsync(Transport transport, bool includeHostRefs)
    {
        var response = new GetObservedResponse { Observed = _observations.Summary(includeHostRefs, transport) };
        response.Verdicts.AddRange(_observations.ContractVerdicts(_registry.Answers().Now, transport));
        await _quoted.QuoteAsync(response.Verdicts);
        return new Immutable<GetObservedResponse>(response);
    }

    public async Task ObserveAsync(Immutable<ObservationDelta[]> deltas)
    {
        // Entries of a writer between what was applied and its delta never arrived: read them from the journal.
        if (deltas.Value.Any(d => d.PreviousSeq > _observations.Watermark(d.Writer))) await CatchUpAsync(CancellationToken.None);
        foreach (var delta in deltas.Value) Applied(_observations.Apply(delta.Writer, delta.Entries));
        if (_checkpoints.Due)
        {
            await CheckpointAsync();
            return;
        }

        // Raised as soon as decided, not at the next checkpoint; a failure here leaves them pending, and the
        // checkpoint (which cannot pass without them) stores them or fails.
        if (Watch(judge: _observations.VerdictInputsChanged)) await TryStoreEventsAsync();
    }

    public async Task RefreshVerdictsAsync(long generation)
    {
        await catalog.AtLeastAsync(generation, CancellationToken.None);
        await JudgeAgainAsync();
    }

    public async Task RefreshExpectationsAsync(long version)
    {
        await expectations.AtLeastAsync(version, CancellationToken.None);
        await JudgeAgainAsync();
    }

    public Task<RegistryGenerations> GetRegistryGenerationsAsync() => Task.FromResult(_registry.Generations);

    public async Task StageRegistryAsync(long generation, long[] abortedGenerations, Immutable<byte[]> timelines)
    {
        if (_registry.Stage(generation, abortedGenerations, timelines.Value) is not { } undo) return;
        _common.Withdraw();
        try
        {
            await WriteStateAsync();
        }
        catch
        {
            // Not stored: a retry of this stage must write it again, not find it already in memory.
            undo();
            _common.Withdraw();
            throw;
        }

        await AfterWriteAsync();
    }

    private async Task JudgeAgainAsync()
    {
        _common.Withdraw();
        // A new registry may change verdicts and assignments: the state that no longer shows them as new is written
        // after their events are stored.
        if (Watch(judge: true) || _watch.HasPending)
        {
            await CheckpointAsync();
            return;
        }

        await RecordCheckpointAsync();
    }

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
        _common.Withdraw();
        _checkpoints.Applied(count);
    }

    private async Task CheckpointAsync()
    {
        // What the journal holds past the watermarks first: a delivery that was lost for good (the last one of a writer
        // for this port, with no later one to show the gap) is read here, at the port's next checkpoint at the latest.
        await CatchUpAsync(CancellationToken.None);
        await WriteStateAsync();
        await AfterWriteAsync();
    }

    private bool Watch(bool judge)
    {
        var answers = _registry.Answers();
        return _observations.HasObservations && _watch.Detect(_observations, answers.Now, answers.Catalog.Generation, judge);
    }

    /// <summary>
    /// Raised as soon as decided. A failure (counted and logged by the sink) keeps them pending: they are raised again
    /// soon, backing off to once a minute, and the next checkpoint stores them before the state or fails.
    /// </summary>
    private async Task TryStoreEventsAsync()
    {
        try
        {
            await StoreEventsAsync();
        }
        catch (Exception)
        {
            RetryEventsLater();
        }
    }

    private void RetryEventsLater()
    {
        _eventRetry?.Dispose();
        _eventRetry = this.RegisterGrainTimer(async () =>
        {
            _eventRetryDelay = TimeSpan.FromTicks(Math.Min(_eventRetryDelay.Ticks * 2, LastEventRetry.Ticks));
            await TryStoreEventsAsync();
        }, new GrainTimerCreationOptions(_eventRetryDelay, Timeout.InfiniteTimeSpan) { Interleave = false });
    }

    private async Task StoreEventsAsync()
    {
        if (!_watch.HasPending) return;
        var pending = _watch.Pending.ToArray();
        await watchEvents.RaiseAsync(pending, CancellationToken.None);
        _watch.Stored(pending.Length);
        if (_watch.HasPending) return;
        _eventRetry?.Dispose();
        (_eventRetry, _eventRetryDelay) = (null, FirstEventRetry);
    }

    private async Task WriteStateAsync()
    {
        // Events first: a state written without them would never raise them again.
        if (_observations.HasObservations) Watch(judge: true);
        await StoreEventsAsync();
        await state.WriteStateAsync();
    }

    private async Task Stored(Func<Task> step)
    {
        try
        {
            await step();
        }
        catch (Exception e) when (e is not Orleans.Storage.InconsistentStateException && PortStorageException.FromDatabase(e, Port) is { } storage)
        {
            // An inconsistent state goes as it is: Orleans deactivates the grain on it, so the next activation reads the state again.
            throw storage;
        }
    }

    /// <summary>After any state write: the journal below the stored watermarks is applied for good, and the index learns the verdicts.</summary>
    private async Task AfterWriteAsync()
    {
        var written = _checkpoints.Stored(state.State.Observed.Watermarks);
        await RecordCheckpointAsync();
        _checkpoints.Completed(written);
    }

    private async Task RecordCheckpointAsync()
    {
        // A port never observed has nothing to record; one whose entries were all unusable still records how far it read.
        if (!_observations.HasObservations && _checkpoints.StoredWatermarks.Count == 0) return;
        await journal.RecordCheckpointAsync((int)Port, _checkpoints.StoredWatermarks, _observations.IndexRows(_registry.Answers().Now), CancellationToken.None);
    }
}
