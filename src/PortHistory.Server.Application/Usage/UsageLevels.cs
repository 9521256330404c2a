using System.Buffers;
using PortHistory.Contracts.V1;

namespace PortHistory.Server.Application.Usage;

/// <summary>One day of a series: hosts listening (and of them reachable), hosts that started and stopped.</summary>
internal readonly record struct UsageDay(int Hosts, int Reachable, int Added, int Removed)
{
    public static UsageDay operator +(UsageDay a, UsageDay b) => new(a.Hosts + b.Hosts, a.Reachable + b.Reachable, a.Added + b.Added, a.Removed + b.Removed);
}

/// <summary>
/// The hosts of every (transport, process) on every day of a range, from stored rows: a key's hosts at the start of a
/// day are all its earlier rows added up (months before the range's month, then its days); a day's hosts are those
/// plus the hosts that started that day. Walks the days once with the keys in arrays: ten years of a busy port are
/// 3,652 days times a few dozen keys.
/// </summary>
internal static class UsageLevels
{
    private readonly record struct Key(Transport Transport, int ProcessId, bool Reachable);

    public static Dictionary<(Transport, int), UsageDay[]> Of(UsageQuery query, UsageRows rows)
    {
        var days = query.To.DayNumber - query.From.DayNumber + 1;
        var monthStart = new DateOnly(query.From.Year, query.From.Month, 1);
        var before = new Dictionary<Key, int>();
        foreach (var row in rows.Months) if (row.Start < monthStart) Add(before, row);
        foreach (var row in rows.Days) if (row.Start >= monthStart && row.Start < query.From) Add(before, row);
        var dropped = DroppedMonths(query, rows, monthStart);

        // Keys in a stable order (those listening before the range, then as they appear in it): ties in the answer's
        // ordering fall back on it.
        var index = new Dictionary<Key, int>();
        var keys = new List<Key>();
        foreach (var key in before.Keys) Index(key);

        // The rows by day (a counting sort): the rows of day i are byDay[firstOfDay[i]..firstOfDay[i + 1]). A busy port's
        // ten years are tens of thousands of rows: the sorted copy is pooled rather than left to the large object heap.
        var firstOfDay = new int[days + 1];
        for (var r = 0; r < rows.Days.Count; r++)
        {
            if (InRange(rows.Days[r]) is var i and >= 0) firstOfDay[i + 1]++;
        }

        foreach (var row in dropped) firstOfDay[row.Start.DayNumber - query.From.DayNumber + 1]++;
        for (var i = 1; i <= days; i++) firstOfDay[i] += firstOfDay[i - 1];
        var byDay = ArrayPool<(int Key, int Added, int Removed)>.Shared.Rent(firstOfDay[days]);
        var filled = (int[])firstOfDay.Clone();
        for (var r = 0; r < rows.Days.Count; r++)
        {
            var row = rows.Days[r];
            if (InRange(row) is var i and >= 0) byDay[filled[i]++] = (Index(new Key(row.Transport, row.ProcessId, row.Reachable)), row.Added, row.Removed);
        }

        foreach (var row in dropped)
        {
            byDay[filled[row.Start.DayNumber - query.From.DayNumber]++] = (Index(new Key(row.Transport, row.ProcessId, row.Reachable)), row.Added, row.Removed);
        }

        var series = new Dictionary<(Transport, int), UsageDay[]>();
        var target = new UsageDay[keys.Count][];
        var level = new int[keys.Count];
        for (var k = 0; k < keys.Count; k++)
        {
            var key = keys[k];
            if (!series.TryGetValue((key.Transport, key.ProcessId), out var values)) series[(key.Transport, key.ProcessId)] = values = new UsageDay[days];
            target[k] = values;
            level[k] = before.GetValueOrDefault(key);
        }

        var added = new int[keys.Count];
        var removed = new int[keys.Count];
        for (var i = 0; i < days; i++)
        {
            for (var r = firstOfDay[i]; r < firstOfDay[i + 1]; r++)
            {
                added[byDay[r].Key] += byDay[r].Added;
                removed[byDay[r].Key] += byDay[r].Removed;
            }

            for (var k = 0; k < keys.Count; k++)
            {
                var hosts = Math.Max(0, level[k] + added[k]);
                target[k][i] += new UsageDay(hosts, keys[k].Reachable ? hosts : 0, added[k], removed[k]);
                level[k] += added[k] - removed[k];
            }

            for (var r = firstOfDay[i]; r < firstOfDay[i + 1]; r++) (added[byDay[r].Key], removed[byDay[r].Key]) = (0, 0);
        }

        ArrayPool<(int Key, int Added, int Removed)>.Shared.Return(byDay);
        return series;

        // The row's day in the range, or -1.
        int InRange(StoredUsageRow row) => row.Start >= query.From && row.Start <= query.To ? row.Start.DayNumber - query.From.DayNumber : -1;

        int Index(Key key)
        {
            if (index.TryGetValue(key, out var k)) return k;
            index[key] = keys.Count;
            keys.Add(key);
            return keys.Count - 1;
        }
    }

    /// <summary>
    /// Rows standing in for months whose daily rows were dropped past the retention: a monthly row's starts on its first
    /// day in the range, its stops on its last.
    /// </summary>
    private static List<StoredUsageRow> DroppedMonths(UsageQuery query, UsageRows rows, DateOnly monthStart)
    {
        if (rows.DailySince is not { } since) return [];
        return [.. rows.Months.Where(m => m.Start < since && m.Start >= monthStart && m.Start <= query.To).SelectMany(m => new[]
        {
            m with { Start = m.Start < query.From ? query.From : m.Start, Removed = 0 },
            m with { Start = m.Start.AddMonths(1).AddDays(-1) > query.To ? query.To : m.Start.AddMonths(1).AddDays(-1), Added = 0 },
        })];
    }

    private static void Add(Dictionary<Key, int> running, StoredUsageRow row)
    {
        var key = new Key(row.Transport, row.ProcessId, row.Reachable);
        running[key] = running.GetValueOrDefault(key) + row.Added - row.Removed;
    }
}
