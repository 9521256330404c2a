using PortHistory.Contracts.V1;
using PortHistory.Grains.Editions;

namespace PortHistory.Grains.Ports;

[GrainType("port")]
public sealed class PortGrain(
    [PersistentState("port", PortGrainStorage.Name)] IPersistentState<PortGrainState> state,
    IEditionCatalog catalog,
    PortAnswerBoard board,
    TimelineInterner interner) : Grain, IPortGrain
{
    private static readonly StoredPortRegistry NoHistory = new();

    private RegistrySlice? _parsedSlice;
    private StoredPortRegistry _timelines = NoHistory;
    private PortRegistryAnswers? _answers;

    private uint Port => (uint)this.GetPrimaryKeyLong();

    public Task<Immutable<GetPortResponse>> GetPortAsync(PortQuery query)
    {
        var answers = Answers();
        var answer = answers.GetPort(query);
        if (PortQuery.IsCommon(query)) board.Publish((int)Port, answers.Catalog.Generation, answer);
        return Task.FromResult(new Immutable<GetPortResponse>(answer));
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        board.Withdraw((int)Port);
        return Task.CompletedTask;
    }

    public Task<Immutable<GetTimelineResponse>> GetTimelineAsync(Transport transport) =>
        Task.FromResult(new Immutable<GetTimelineResponse>(Answers().GetTimeline(transport)));

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

        current.Staged = new RegistrySlice(generation, interner.Intern(timelines.Value).Bytes);
        board.Withdraw((int)Port);
        await state.WriteStateAsync();
    }

    public Task<RegistryGenerations> GetRegistryGenerationsAsync() =>
        Task.FromResult(new RegistryGenerations(state.State.Committed?.Generation, state.State.Staged?.Generation, Visible()?.Generation ?? 0));

    /// <summary>The staged slice once its generation has committed, else the committed one.</summary>
    private RegistrySlice? Visible()
    {
        var staged = state.State.Staged;
        return staged is not null && catalog.IsCommitted(staged.Generation) ? staged : state.State.Committed;
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Share the stored bytes with every other port holding the same timelines.
        var current = state.State;
        if (current.Committed is { } committed) current.Committed = committed with { Timelines = interner.Intern(committed.Timelines).Bytes };
        if (current.Staged is { } staged) current.Staged = staged with { Timelines = interner.Intern(staged.Timelines).Bytes };
        return Task.CompletedTask;
    }

    private PortRegistryAnswers Answers()
    {
        var slice = Visible();
        if (!ReferenceEquals(slice, _parsedSlice))
        {
            _parsedSlice = slice;
            _timelines = slice is null ? NoHistory : interner.Intern(slice.Timelines).Timelines;
            _answers = null;
        }

        var snapshot = catalog.Current;
        if (_answers is null || _answers.Catalog != snapshot) _answers = new PortRegistryAnswers(Port, _timelines, snapshot);
        return _answers;
    }
}

public static class PortGrainStorage
{
    /// <summary>The grain storage provider the port grains persist to.</summary>
    public const string Name = "porthistory";
}
