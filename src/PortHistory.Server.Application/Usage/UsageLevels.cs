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
        var inRange = DaysInRange(query, rows, monthStart);

        // Keys in a stable order (those listening before the range, then as they appear in it): ties in the answer's
        // ordering fall back on it.
        var index = new Dictionary<Key, int>();
        var keys = new List<Key>();
        foreach (var key in before.Keys) Index(key);
        var rowKeys = new int[inRange.Count];
        for (var r = 0; r < inRange.Count; r++) rowKeys[r] = Index(new Key(inRange[r].Transport, inRange[r].ProcessId, inRange[r].Reachable));

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

        // The rows by day (a counting sort): the rows of day i are byDay[firstOfDay[i]..firstOfDay[i + 1]).
        var firstOfDay = new int[days + 1];
        foreach (var row in inRange) firstOfDay[row.Start.DayNumber - query.From.DayNumber + 1]++;
        for (var i = 1; i <= days; i++) firstOfDay[i] += firstOfDay[i - 1];
        var byDay = new (int Key, int Added, int Removed)[inRange.Count];
        var filled = (int[])firstOfDay.Clone();
        for (var r = 0; r < inRange.Count; r++) byDay[filled[inRange[r].Start.DayNumber - query.From.DayNumber]++] = (rowKeys[r], inRange[r].Added, inRange[r].Removed);

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

        return series;

        int Index(Key key)
        {
            if (index.TryGetValue(key, out var k)) return k;
            index[key] = keys.Count;
            keys.Add(key);
            return keys.Count - 1;
        }
    }

    /// <summary>
    /// The day rows of the range; for months whose daily rows were dropped past the retention, their monthly row stands
    /// in: its starts on its first day in the range, its stops on its last.
    /// </summary>
    private static List<StoredUsageRow> DaysInRange(UsageQuery query, UsageRows rows, DateOnly monthStart)
    {
        var kept = rows.Days.Where(r => r.Start >= query.From && r.Start <= query.To);
        if (rows.DailySince is not { } since) return [.. kept];
        var dropped = rows.Months.Where(m => m.Start < since && m.Start >= monthStart && m.Start <= query.To).SelectMany(m => new[]
        {
            m with { Start = m.Start < query.From ? query.From : m.Start, Removed = 0 },
            m with { Start = m.Start.AddMonths(1).AddDays(-1) > query.To ? query.To : m.Start.AddMonths(1).AddDays(-1), Added = 0 },
        });
        return [.. kept.Concat(dropped)];
    }

    private static void Add(Dictionary<Key, int> running, StoredUsageRow row)
    {
        var key = new Key(row.Transport, row.ProcessId, row.Reachable);
        running[key] = running.GetValueOrDefault(key) + row.Added - row.Removed;
    }
}
