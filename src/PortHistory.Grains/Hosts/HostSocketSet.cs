using PortHistory.Grains.Abstractions;

namespace PortHistory.Grains.Hosts;

/// <summary>
/// A host's sockets as a sorted array (by <see cref="HostSocketEntry.CompareTo"/>): small in memory (a host has tens of
/// sockets, a silo may hold a million hosts), and two sets compare in one pass.
/// </summary>
internal static class HostSocketSet
{
    /// <summary>Sorts and drops repeats (a socket listed twice counts once).</summary>
    public static HostSocketEntry[] Normalize(IEnumerable<HostSocketEntry> sockets)
    {
        var sorted = sockets.ToArray();
        Array.Sort(sorted);
        var count = 0;
        for (var i = 0; i < sorted.Length; i++)
        {
            if (count > 0 && sorted[count - 1].SameSocket(sorted[i])) continue;
            sorted[count++] = sorted[i];
        }

        return count == sorted.Length ? sorted : sorted[..count];
    }

    /// <summary>What <paramref name="after"/> adds to and removes from <paramref name="before"/> (both sorted).</summary>
    public static (List<HostSocketEntry> Added, List<HostSocketEntry> Removed) Diff(HostSocketEntry[] before, HostSocketEntry[] after)
    {
        List<HostSocketEntry> added = [], removed = [];
        int i = 0, j = 0;
        while (i < before.Length || j < after.Length)
        {
            var c = i == before.Length ? 1 : j == after.Length ? -1 : before[i].CompareTo(after[j]);
            if (c < 0) removed.Add(before[i++]);
            else if (c > 0) added.Add(after[j++]);
            else
            {
                i++;
                j++;
            }
        }

        return (added, removed);
    }

    /// <summary>
    /// <paramref name="before"/> with <paramref name="removed"/> taken out and <paramref name="added"/> put in, keeping the
    /// since-time of every socket kept; or why that cannot be (a removal of a socket the set does not hold, an addition
    /// of one it holds already).
    /// </summary>
    public static (HostSocketEntry[]? Set, string? Problem) Apply(HostSocketEntry[] before, IReadOnlyList<HostSocketEntry> added, IReadOnlyList<HostSocketEntry> removed)
    {
        var result = new List<HostSocketEntry>(before.Length + added.Count);
        var gone = Normalize(removed);
        int i = 0, r = 0;
        while (i < before.Length)
        {
            var c = r == gone.Length ? -1 : before[i].CompareTo(gone[r]);
            if (c < 0) result.Add(before[i++]);
            else if (c == 0)
            {
                i++;
                r++;
            }
            else return (null, $"removes {Describe(gone[r])}, which the host does not have");
        }

        if (r < gone.Length) return (null, $"removes {Describe(gone[r])}, which the host does not have");
        var kept = result.ToArray();
        foreach (var socket in Normalize(added))
        {
            if (Array.BinarySearch(kept, socket) >= 0)
            {
                return (null, $"adds {Describe(socket)}, which the host has already");
            }

            result.Add(socket);
        }

        return (Normalize(result), null);
    }

    /// <summary>Keeps the since-time the host already had for every socket of <paramref name="after"/> it held before.</summary>
    public static HostSocketEntry[] KeepSince(HostSocketEntry[] before, HostSocketEntry[] after)
    {
        var merged = (HostSocketEntry[])after.Clone();
        int i = 0, j = 0;
        while (i < before.Length && j < merged.Length)
        {
            var c = before[i].CompareTo(merged[j]);
            if (c < 0) i++;
            else if (c > 0) j++;
            else
            {
                merged[j] = merged[j] with { Since = before[i].Since };
                i++;
                j++;
            }
        }

        return merged;
    }

    private static string Describe(HostSocketEntry socket) =>
        $"{socket.Port}/{socket.Transport.ToString().ToLowerInvariant()} ({socket.Scope.ToString().ToLowerInvariant()}"
        + (socket.Address.Length > 0 ? $" {socket.Address}" : "") + $", process #{socket.ProcessId})";
}
