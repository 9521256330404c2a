using Google.Protobuf.WellKnownTypes;
using PortHistory.Contracts.V1;

namespace PortHistory.Server.Application.Usage;

/// <summary>What a caller asked of one port's usage history, checked.</summary>
public sealed record UsageQuery(int Port, Transport? Transport, DateOnly From, DateOnly To, UsageGranularity Granularity, int Top, bool Admin)
{
    /// <summary>The longest range one answer covers: twenty years of days.</summary>
    public const int MaxDays = 20 * 366;

    public const int DefaultTop = 5;
    public const int MaxTop = 20;
}

/// <summary>
/// Turns stored usage rows into series: a key's hosts listening at the start of a day are all its earlier rows added
/// up (months before the range's month, then its days); a day's hosts are those plus the hosts that started that
/// day. Weeks and months show their busiest day. Below the privacy floor a count is withheld and a process is not
/// named to callers without the admin role.
/// </summary>
public static class UsageHistoryBuilder
{
    private readonly record struct Key(Transport Transport, int ProcessId, bool Reachable);

    private readonly record struct Day(int Hosts, int Reachable, int Added, int Removed);

    public static GetUsageHistoryResponse Build(UsageQuery query, UsageRows rows, int floor)
    {
        var days = query.To.DayNumber - query.From.DayNumber + 1;
        var monthStart = new DateOnly(query.From.Year, query.From.Month, 1);
        var running = new Dictionary<Key, int>();
        foreach (var row in rows.Months.Where(r => r.Start < monthStart)) Add(running, row);
        foreach (var row in rows.Days.Where(r => r.Start >= monthStart && r.Start < query.From)) Add(running, row);

        // Per (transport, process): every day of the range.
        var inRange = DaysInRange(query, rows, monthStart);
        var byDay = inRange.ToLookup(r => r.Start);
        var series = new Dictionary<(Transport, int), Day[]>();
        foreach (var key in running.Keys.Concat(inRange.Select(r => new Key(r.Transport, r.ProcessId, r.Reachable))).Distinct().ToList())
        {
            series.TryAdd((key.Transport, key.ProcessId), new Day[days]);
            running.TryAdd(key, 0);
        }

        for (var i = 0; i < days; i++)
        {
            var changed = byDay[query.From.AddDays(i)].ToDictionary(r => new Key(r.Transport, r.ProcessId, r.Reachable));
            foreach (var (key, start) in running.ToList())
            {
                var row = changed.GetValueOrDefault(key);
                var hosts = Math.Max(0, start + row.Added);
                ref var day = ref series[(key.Transport, key.ProcessId)][i];
                day = new Day(day.Hosts + hosts, day.Reachable + (key.Reachable ? hosts : 0), day.Added + row.Added, day.Removed + row.Removed);
                running[key] = start + row.Added - row.Removed;
            }
        }

        var names = rows.Lifetimes.ToDictionary(l => (l.Transport, l.ProcessId));
        var peaks = series.ToDictionary(s => s.Key, s => Peak(s.Value, query.From));
        bool Named((Transport, int) key) => key.Item2 != 0 && names.ContainsKey(key) &&
                                            (query.Admin || Math.Max(names[key].PeakHosts, peaks[key].Hosts) >= floor);

        var response = new GetUsageHistoryResponse
        {
            Port = (uint)query.Port, From = Text(query.From), To = Text(query.To), Granularity = query.Granularity,
            ReportingSince = rows.ReportingSince is { } since ? Text(since) : "", PrivacyFloor = (uint)floor,
        };
        var processes = series.Where(s => s.Key.Item2 != 0).ToList();
        var top = processes.Where(s => Named(s.Key)).OrderByDescending(s => s.Value.Sum(d => (long)d.Hosts)).ThenBy(s => s.Key.Item2)
            .Take(query.Top).Where(s => s.Value.Any(d => d.Hosts > 0)).ToList();
        foreach (var ((transport, process), values) in top)
        {
            var name = names[(transport, process)];
            response.Series.Add(Series(new UsageSeries { Transport = transport, ProcessName = name.Name, Executable = name.Executable }, values, query, floor));
        }

        var chosen = top.Select(s => s.Key).ToHashSet();
        var rest = processes.Where(s => !chosen.Contains(s.Key)).ToList();
        if (rest.Count > 0 && rest.Any(s => s.Value.Any(d => d.Hosts > 0)))
        {
            foreach (var group in rest.GroupBy(s => s.Key.Item1).OrderBy(g => g.Key))
            {
                var other = new Day[days];
                foreach (var (_, values) in group)
                {
                    for (var i = 0; i < days; i++) other[i] = Sum(other[i], values[i]);
                }

                response.Series.Add(Series(new UsageSeries { Transport = group.Key, Other = true }, other, query, floor));
            }
        }

        foreach (var ((transport, _), values) in series.Where(s => s.Key.Item2 == 0).OrderBy(s => s.Key.Item1))
        {
            response.Series.Add(Series(new UsageSeries { Transport = transport, Total = true }, values, query, floor));
        }

        var fleet = Enumerable.Range(0, days).Select(i => new Day(rows.ReportingHosts.GetValueOrDefault(query.From.AddDays(i)), 0, 0, 0)).ToArray();
        response.ReportingHosts.AddRange(Buckets(fleet, query).Select(b => new UsagePoint { Start = Text(b.Start), Hosts = (uint)b.Value.Hosts }));
        response.Lifetimes.AddRange(Lifetimes(query, rows, series, peaks, floor, Named));
        return response;
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
        return [.. kept.Concat(dropped).GroupBy(r => (r.Transport, r.ProcessId, r.Reachable, r.Start))
            .Select(g => new StoredUsageRow(g.Key.Transport, g.Key.ProcessId, g.Key.Reachable, g.Key.Start, g.Sum(r => r.Added), g.Sum(r => r.Removed)))];
    }

    private static IEnumerable<ProcessLifetime> Lifetimes(UsageQuery query, UsageRows rows, Dictionary<(Transport, int), Day[]> series,
        Dictionary<(Transport, int), (int Hosts, DateOnly Day)> peaks, int floor, Func<(Transport, int), bool> named)
    {
        var now = rows.Months.GroupBy(r => (r.Transport, r.ProcessId)).ToDictionary(g => g.Key, g => Math.Max(0, g.Sum(r => r.Added - r.Removed)));
        foreach (var lifetime in rows.Lifetimes.OrderBy(l => l.FirstSeen).ThenBy(l => l.ProcessId))
        {
            var key = (lifetime.Transport, lifetime.ProcessId);
            if (!named(key)) continue;
            var hostsNow = now.GetValueOrDefault(key);
            var (peak, peakDay) = series.ContainsKey(key) && peaks[key].Hosts > lifetime.PeakHosts ? peaks[key] : (lifetime.PeakHosts, lifetime.PeakDay ?? default);
            var withheld = !query.Admin && hostsNow is > 0 && hostsNow < floor;
            yield return new ProcessLifetime
            {
                Transport = lifetime.Transport, ProcessName = lifetime.Name, Executable = lifetime.Executable,
                FirstSeen = Timestamp.FromDateTime(DateTime.SpecifyKind(lifetime.FirstSeen, DateTimeKind.Utc)),
                LastSeen = hostsNow > 0 ? null : Timestamp.FromDateTime(DateTime.SpecifyKind(lifetime.LastRemovedAt ?? lifetime.LastAddedAt, DateTimeKind.Utc)),
                ListeningNow = hostsNow > 0, HostsNow = withheld ? 0u : (uint)hostsNow, FewerThanFloor = withheld,
                PeakHosts = (uint)peak, PeakDay = peak > 0 ? Text(peakDay) : "",
            };
        }
    }

    private static UsageSeries Series(UsageSeries series, Day[] values, UsageQuery query, int floor)
    {
        foreach (var (start, value) in Buckets(values, query))
        {
            var withheld = !query.Admin && value.Hosts > 0 && value.Hosts < floor;
            series.Points.Add(withheld
                ? new UsagePoint { Start = Text(start), FewerThanFloor = true }
                : new UsagePoint { Start = Text(start), Hosts = (uint)value.Hosts, Reachable = (uint)value.Reachable, Added = (uint)value.Added, Removed = (uint)value.Removed });
        }

        return series;
    }

    /// <summary>Days grouped into the query's buckets: the busiest day's hosts, the changes added up.</summary>
    private static IEnumerable<(DateOnly Start, Day Value)> Buckets(Day[] values, UsageQuery query) =>
        values.Select((value, i) => (Day: query.From.AddDays(i), Value: value))
            .GroupBy(d => BucketStart(d.Day, query.Granularity))
            .Select(g => (g.Key, new Day(g.Max(d => d.Value.Hosts), g.Max(d => d.Value.Reachable), g.Sum(d => d.Value.Added), g.Sum(d => d.Value.Removed))));

    public static DateOnly BucketStart(DateOnly day, UsageGranularity granularity) => granularity switch
    {
        UsageGranularity.Week => day.AddDays(-(((int)day.DayOfWeek + 6) % 7)),
        UsageGranularity.Month => new DateOnly(day.Year, day.Month, 1),
        _ => day,
    };

    private static (int Hosts, DateOnly Day) Peak(Day[] values, DateOnly from)
    {
        var best = (Hosts: 0, Day: from);
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i].Hosts > best.Hosts) best = (values[i].Hosts, from.AddDays(i));
        }

        return best;
    }

    private static Day Sum(Day a, Day b) => new(a.Hosts + b.Hosts, a.Reachable + b.Reachable, a.Added + b.Added, a.Removed + b.Removed);

    private static void Add(Dictionary<Key, int> running, StoredUsageRow row)
    {
        var key = new Key(row.Transport, row.ProcessId, row.Reachable);
        running[key] = running.GetValueOrDefault(key) + row.Added - row.Removed;
    }

    public static string Text(DateOnly day) => day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
}
