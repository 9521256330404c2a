using Google.Protobuf.WellKnownTypes;
using PortHistory.Contracts.V1;

namespace PortHistory.Server.Application.Usage;

/// <summary>What a caller asked of one port's usage history, checked.</summary>
/// <param name="Columns">Answer the counts in columns (<see cref="UsageColumns"/>) rather than a point per bucket.</param>
public sealed record UsageQuery(int Port, Transport? Transport, DateOnly From, DateOnly To, UsageGranularity Granularity, int Top, bool Admin, bool Columns = false)
{
    /// <summary>The longest range one answer covers: twenty years of days.</summary>
    public const int MaxDays = 20 * 366;

    public const int DefaultTop = 5;
    public const int MaxTop = 20;
}

/// <summary>
/// Turns stored usage rows into an answer: the series of <see cref="UsageLevels"/> cut into the query's buckets (weeks
/// and months show their busiest day), the top processes named and the rest as "other". Below the privacy floor a
/// count is withheld and a process is not named to callers without the admin role.
/// </summary>
public static class UsageHistoryBuilder
{
    public static GetUsageHistoryResponse Build(UsageQuery query, UsageRows rows, int floor)
    {
        var days = query.To.DayNumber - query.From.DayNumber + 1;
        var series = UsageLevels.Of(query, rows);
        var buckets = new UsageBuckets(query);

        var names = rows.Lifetimes.ToDictionary(l => (l.Transport, l.ProcessId));
        var facts = series.ToDictionary(s => s.Key, s => SeriesFacts.Of(s.Value));
        bool Named((Transport, int) key) => key.Item2 != 0 && names.ContainsKey(key) &&
                                            (query.Admin || Math.Max(names[key].PeakHosts, facts.GetValueOrDefault(key).PeakHosts) >= floor);

        var response = new GetUsageHistoryResponse
        {
            Port = (uint)query.Port, From = Text(query.From), To = Text(query.To), Granularity = query.Granularity,
            ReportingSince = rows.ReportingSince is { } since ? Text(since) : "", PrivacyFloor = (uint)floor,
        };
        var processes = series.Where(s => s.Key.Item2 != 0).ToList();
        var top = processes.Where(s => Named(s.Key)).OrderByDescending(s => facts[s.Key].HostDays).ThenBy(s => s.Key.Item2)
            .Take(query.Top).Where(s => facts[s.Key].PeakHosts > 0).ToList();
        foreach (var ((transport, process), values) in top)
        {
            var name = names[(transport, process)];
            response.Series.Add(Series(new UsageSeries { Transport = transport, ProcessName = name.Name, Executable = name.Executable }, values, buckets, query, floor));
        }

        var chosen = top.Select(s => s.Key).ToHashSet();
        var rest = processes.Where(s => !chosen.Contains(s.Key)).ToList();
        if (rest.Count > 0 && rest.Any(s => facts[s.Key].PeakHosts > 0))
        {
            foreach (var group in rest.GroupBy(s => s.Key.Item1).OrderBy(g => g.Key))
            {
                var other = new UsageDay[days];
                foreach (var (key, values) in group)
                {
                    for (var i = facts[key].First; i <= facts[key].Last; i++) other[i] += values[i];
                }

                response.Series.Add(Series(new UsageSeries { Transport = group.Key, Other = true }, other, buckets, query, floor));
            }
        }

        foreach (var ((transport, _), values) in series.Where(s => s.Key.Item2 == 0).OrderBy(s => s.Key.Item1))
        {
            response.Series.Add(Series(new UsageSeries { Transport = transport, Total = true }, values, buckets, query, floor));
        }

        var fleet = new UsageDay[days];
        for (var i = 0; i < days; i++) fleet[i] = new UsageDay(rows.ReportingHosts.GetValueOrDefault(query.From.AddDays(i)), 0, 0, 0);
        var reporting = buckets.Of(fleet);
        if (query.Columns)
        {
            response.Buckets.AddRange(buckets.Texts);
            response.ReportingColumns = UsageColumns.Of([.. reporting.Select(b => (uint)b.Hosts)], new uint[reporting.Length], new uint[reporting.Length], new uint[reporting.Length], []);
        }
        else
        {
            for (var b = 0; b < reporting.Length; b++) response.ReportingHosts.Add(new UsagePoint { Start = buckets.Texts[b], Hosts = (uint)reporting[b].Hosts });
        }

        response.Lifetimes.AddRange(Lifetimes(query, rows, facts, floor, Named));
        return response;
    }

    private static IEnumerable<ProcessLifetime> Lifetimes(UsageQuery query, UsageRows rows, Dictionary<(Transport, int), SeriesFacts> facts, int floor,
        Func<(Transport, int), bool> named)
    {
        var now = rows.Months.GroupBy(r => (r.Transport, r.ProcessId)).ToDictionary(g => g.Key, g => Math.Max(0, g.Sum(r => r.Added - r.Removed)));
        foreach (var lifetime in rows.Lifetimes.OrderBy(l => l.FirstSeen).ThenBy(l => l.ProcessId))
        {
            var key = (lifetime.Transport, lifetime.ProcessId);
            if (!named(key)) continue;
            var hostsNow = now.GetValueOrDefault(key);
            var (peak, peakDay) = facts.TryGetValue(key, out var f) && f.PeakHosts > lifetime.PeakHosts
                ? (f.PeakHosts, query.From.AddDays(f.PeakIndex))
                : (lifetime.PeakHosts, lifetime.PeakDay ?? default);
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

    private static UsageSeries Series(UsageSeries series, UsageDay[] values, UsageBuckets buckets, UsageQuery query, int floor)
    {
        var bucketed = buckets.Of(values);
        bool Withheld(UsageDay value) => !query.Admin && value.Hosts > 0 && value.Hosts < floor;
        if (query.Columns)
        {
            var n = bucketed.Length;
            var (hosts, reachable, added, removed, withheld) = (new uint[n], new uint[n], new uint[n], new uint[n], new List<int>());
            for (var b = 0; b < n; b++)
            {
                (hosts[b], reachable[b], added[b], removed[b]) = ((uint)bucketed[b].Hosts, (uint)bucketed[b].Reachable, (uint)bucketed[b].Added, (uint)bucketed[b].Removed);
                if (Withheld(bucketed[b])) withheld.Add(b);
            }

            series.Columns = UsageColumns.Of(hosts, reachable, added, removed, withheld);
            return series;
        }

        for (var b = 0; b < bucketed.Length; b++)
        {
            var value = bucketed[b];
            series.Points.Add(Withheld(value)
                ? new UsagePoint { Start = buckets.Texts[b], FewerThanFloor = true }
                : new UsagePoint { Start = buckets.Texts[b], Hosts = (uint)value.Hosts, Reachable = (uint)value.Reachable, Added = (uint)value.Added, Removed = (uint)value.Removed });
        }

        return series;
    }

    /// <summary>
    /// What the answer needs of a whole series, in one pass: its host-days (the top processes' order), its busiest day
    /// (the first of equals), and the days it holds anything (<see cref="First"/> past <see cref="Last"/> when none).
    /// </summary>
    private readonly record struct SeriesFacts(long HostDays, int PeakHosts, int PeakIndex, int First, int Last)
    {
        public static SeriesFacts Of(UsageDay[] values)
        {
            var (hostDays, peak, peakIndex, first, last) = (0L, 0, 0, values.Length, -1);
            for (var i = 0; i < values.Length; i++)
            {
                var day = values[i];
                if (day is { Hosts: 0, Reachable: 0, Added: 0, Removed: 0 }) continue;
                hostDays += day.Hosts;
                if (day.Hosts > peak) (peak, peakIndex) = (day.Hosts, i);
                first = Math.Min(first, i);
                last = i;
            }

            return new SeriesFacts(hostDays, peak, peakIndex, first, last);
        }
    }

    public static string Text(DateOnly day) => day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
}
