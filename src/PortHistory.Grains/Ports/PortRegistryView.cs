using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Grains.Ports;

/// <summary>
/// The registry side of one port grain: which stored slice it shows (a staged generation once it has committed, else
/// the committed one), staging a new generation, and the answers for the slice under the silo's current catalog.
/// </summary>
internal sealed class PortRegistryView(uint port, PortGrainState state, IEditionCatalog catalog, TimelineInterner interner)
{
    private static readonly StoredPortRegistry NoHistory = new();

    private RegistrySlice? _parsedSlice;
    private StoredPortRegistry _timelines = NoHistory;
    private PortRegistryAnswers? _answers;

    /// <summary>Called when the slice shown changes: answers built from the old one are stale.</summary>
    public event Action? SliceChanged;

    /// <summary>Shares the stored bytes with every other port on the silo holding the same timelines.</summary>
    public void InternStored()
    {
        if (state.Committed is { } committed) state.Committed = committed with { Timelines = interner.Intern(committed.Timelines).Bytes };
        if (state.Staged is { } staged) state.Staged = staged with { Timelines = interner.Intern(staged.Timelines).Bytes };
    }

    /// <summary>
    /// Puts a generation's timelines in the state (not yet written). Returns how to undo it if the write fails, or null
    /// when the stage changes nothing (a replay of the same stage, or an older one).
    /// </summary>
    public Action? Stage(long generation, long[] abortedGenerations, byte[] timelines)
    {
        if (state.Staged is { } staged)
        {
            if (staged.Generation >= generation) return null;

            // The importer holds the only lock: every earlier generation not aborted has committed.
            if (!abortedGenerations.Contains(staged.Generation)) state.Committed = staged;
        }

        var (committedBefore, stagedBefore) = (state.Committed, state.Staged);
        state.Staged = new RegistrySlice(generation, interner.Intern(timelines).Bytes);
        return () => (state.Committed, state.Staged) = (committedBefore, stagedBefore);
    }

    public RegistryGenerations Generations => new(state.Committed?.Generation, state.Staged?.Generation, Visible()?.Generation ?? 0);

    public PortRegistryAnswers Answers()
    {
        var slice = Visible();
        if (!ReferenceEquals(slice, _parsedSlice))
        {
            _parsedSlice = slice;
            _timelines = slice is null ? NoHistory : interner.Intern(slice.Timelines).Timelines;
            _answers = null;
            SliceChanged?.Invoke();
        }

        var snapshot = catalog.Current;
        if (_answers is null || _answers.Catalog != snapshot) _answers = new PortRegistryAnswers(port, _timelines, snapshot);
        return _answers;
    }

    private RegistrySlice? Visible()
    {
        var staged = state.Staged;
        return staged is not null && catalog.IsCommitted(staged.Generation) ? staged : state.Committed;
    }
}
