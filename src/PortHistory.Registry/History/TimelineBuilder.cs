using System.Collections.Immutable;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.History;

/// <summary>Turns the states a (port, transport) had in each edition into versions: runs of editions that say the same thing.</summary>
internal static class TimelineBuilder
{
    private static readonly int[] NoStarts = [];

    /// <param name="states">The normalised records of each edition, in history order.</param>
    /// <param name="refs">The editions, in the same order.</param>
    /// <param name="keys">A cache of semantic keys by state instance, shared across calls of one build.</param>
    public static (ImmutableArray<RecordVersion> Versions, int[] Starts) Build(
        EditionRecord[][] states, EditionIdentity[] refs, Dictionary<EditionRecord[], string>? keys = null)
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
                key = KeyOf(states[e]);
                if (from >= 0 && key == openKey) continue;
                // Before its first listing a port has no version, not an empty one.
                if (from < 0 && states[e].Length == 0) continue;
            }

            if (from >= 0)
            {
                // Close the open version: it held from edition `from` through e - 1.
                var previous = list.Count == 0 ? PortStates.Empty : list[^1].Records.ToArray();
                list.Add(new RecordVersion(refs[from], refs[e - 1], e - from, [.. states[from]], PortStates.Compare(previous, states[from])));
                versionStarts.Add(from);
            }

            if (e == states.Length) break;
            from = e;
            openKey = key;
        }

        UnbrokenHolding.Apply(list);
        return (list.ToImmutable(), versionStarts.Count == 0 ? NoStarts : [.. versionStarts]);

        string KeyOf(EditionRecord[] state)
        {
            if (state.Length == 0) return "";
            if (keys is null) return PortStates.Key(state);
            if (!keys.TryGetValue(state, out var key)) keys[state] = key = PortStates.Key(state);
            return key;
        }
    }
}
