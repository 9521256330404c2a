using System.Collections.Immutable;
using System.Runtime.InteropServices;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.History;

/// <summary>Turns the states a (port, transport) had in each edition into versions: runs of editions that say the same thing.</summary>
internal static class TimelineBuilder
{
    private static readonly int[] NoStarts = [];

    /// <param name="states">The normalised records of each edition, in history order.</param>
    /// <param name="refs">The editions, in the same order.</param>
    /// <param name="keys">The keys of the previous segment's states, shared across the segments of one build.</param>
    public static (ImmutableArray<RecordVersion> Versions, int[] Starts) Build(
        EditionRecord[][] states, EditionIdentity[] refs, ConsecutiveStateKeys? keys = null)
    {
        var list = ImmutableArray.CreateBuilder<RecordVersion>();
        var versionStarts = new List<int>();
        string? openKey = null;
        var from = -1;
        for (var e = 0; e <= states.Length; e++)
        {
            string? key = null;
            if (e < states.Length)
            {
                key = states[e].Length == 0 ? "" : keys is null ? PortStates.Key(states[e]) : keys.KeyOf(e, states[e]);
                if (from >= 0 && key == openKey) continue;
                // Before its first listing a port has no version, not an empty one.
                if (from < 0 && states[e].Length == 0) continue;
            }

            if (from >= 0)
            {
                // Close the open version: it held from edition `from` through e - 1. The states are never changed
                // after the segments are cut, so a version holds its edition's array as it is.
                var previous = versionStarts.Count == 0 ? PortStates.Empty : states[versionStarts[^1]];
                list.Add(new RecordVersion(refs[from], refs[e - 1], e - from, ImmutableCollectionsMarshal.AsImmutableArray(states[from]),
                    PortStates.Compare(previous, states[from])));
                versionStarts.Add(from);
            }

            if (e == states.Length) break;
            from = e;
            openKey = key;
        }

        UnbrokenHolding.Apply(list);
        return (list.ToImmutable(), versionStarts.Count == 0 ? NoStarts : [.. versionStarts]);
    }
}

/// <summary>
/// The semantic key of each edition's state in the segment before: a range record's state is the same instance from
/// one segment to the next, so its key is made once. Comparing instances in place is much cheaper here than a cache
/// keyed by identity, which must hash each of some hundred thousand arrays spread over the heap.
/// </summary>
internal sealed class ConsecutiveStateKeys(int editions)
{
    private readonly EditionRecord[]?[] _states = new EditionRecord[]?[editions];
    private readonly string[] _keys = new string[editions];

    public string KeyOf(int edition, EditionRecord[] state)
    {
        if (!ReferenceEquals(_states[edition], state))
        {
            _states[edition] = state;
            _keys[edition] = PortStates.Key(state);
        }

        return _keys[edition];
    }
}
