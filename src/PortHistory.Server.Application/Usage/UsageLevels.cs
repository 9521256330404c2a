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
/// plus the hosts that started that day. Each key walks its own rows in day order and touches only the days it
/// listened: ten years of a busy port are 3,652 days times a few dozen keys, most of them silent most of the time.
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

        // The rows in the range by key (a counting sort), each key's in the order read. A busy port's ten years are tens
        // of thousands of rows: both copies are pooled rather than left to the large object heap.
        var inRange = ArrayPool<(int Key, int Day, int Added, int Removed)>.Shared.Rent(rows.Days.Count + dropped.Count);
        var count = 0;
        for (var r = 0; r < rows.Days.Count; r++)
        {
            var row = rows.Days[r];
            if (InRange(row) is var i and >= 0) inRange[count++] = (Index(new Key(row.Transport, row.ProcessId, row.Reachable)), i, row.Added, row.Removed);
        }

        foreach (var row in dropped) inRange[count++] = (Index(new Key(row.Transport, row.ProcessId, row.Reachable)), InRange(row), row.Added, row.Removed);
        var firstOfKey = new int[keys.Count + 1];
        for (var r = 0; r < count; r++) firstOfKey[inRange[r].Key + 1]++;
        for (var k = 1; k <= keys.Count; k++) firstOfKey[k] += firstOfKey[k - 1];
        var byKey = ArrayPool<(int Day, int Added, int Removed)>.Shared.Rent(count);
        var filled = (int[])firstOfKey.Clone();
        for (var r = 0; r < count; r++) byKey[filled[inRange[r].Key]++] = (inRange[r].Day, inRange[r].Added, inRange[r].Removed);
        ArrayPool<(int Key, int Day, int Added, int Removed)>.Shared.Return(inRange);

        // Each key walks only its own rows: between two of them its level holds, and only days it listened are touched.
        var series = new Dictionary<(Transport, int), UsageDay[]>();
        for (var k = 0; k < keys.Count; k++)
        {
            var key = keys[k];
            if (!series.TryGetValue((key.Transport, key.ProcessId), out var values)) series[(key.Transport, key.ProcessId)] = values = new UsageDay[days];
            var own = byKey.AsSpan(firstOfKey[k], firstOfKey[k + 1] - firstOfKey[k]);
            if (!IsByDay(own)) own.Sort((a, b) => a.Day.CompareTo(b.Day));
            var level = before.GetValueOrDefault(key);
            var next = 0;
            for (var r = 0; r < own.Length;)
            {
                var day = own[r].Day;
                var (added, removed) = (0, 0);
                for (; r < own.Length && own[r].Day == day; r++) (added, removed) = (added + own[r].Added, removed + own[r].Removed);
                Hold(values, next, day, level, key.Reachable);
                var hosts = Math.Max(0, level + added);
                values[day] += new UsageDay(hosts, key.Reachable ? hosts : 0, added, removed);
                level += added - removed;
                next = day + 1;
            }

            Hold(values, next, days, level, key.Reachable);
        }

        ArrayPool<(int Day, int Added, int Removed)>.Shared.Return(byKey);
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

    /// <summary>Days <paramref name="from"/> up to <paramref name="to"/> of a key whose level holds: its hosts on each.</summary>
    private static void Hold(UsageDay[] values, int from, int to, int level, bool reachable)
    {
        if (level <= 0) return;
        var held = new UsageDay(level, reachable ? level : 0, 0, 0);
        for (var i = from; i < to; i++) values[i] += held;
    }

    private static bool IsByDay(Span<(int Day, int Added, int Removed)> rows)
    {
        for (var r = 1; r < rows.Length; r++)
        {
            if (rows[r].Day < rows[r - 1].Day) return false;
        }

        return true;
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
