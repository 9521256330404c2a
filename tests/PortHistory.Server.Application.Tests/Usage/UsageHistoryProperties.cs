using CsCheck;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Usage;

namespace PortHistory.Server.Application.Tests.Usage;

/// <summary>
/// The usage history's arithmetic, against a model that knows every host: hosts starting and stopping on random days
/// (at most once a day each) give, for every day of any range, the hosts that listened that day; loaded daily levels
/// come back exactly; weeks and months show their busiest day; the privacy floor withholds small counts; an answer in
/// columns is the answer in points.
/// </summary>
public sealed class UsageHistoryProperties
{
    private static readonly DateOnly Origin = new(2024, 1, 1);
    private const int Days = 90;

    /// <summary>Per host, the days it toggles (start, stop, start, ...), at most one a day.</summary>
    private static readonly Gen<int[][]> Fleets = Gen.Int[0, Days - 1].HashSet[0, 8].Select(days => days.Order().ToArray()).Array[1, 12];

    [Fact]
    public void Every_day_of_any_range_counts_the_hosts_that_listened_that_day()
    {
        Gen.Select(Fleets, Gen.Int[0, Days - 1], Gen.Int[0, Days - 1]).Sample((fleet, a, b) =>
        {
            var (from, to) = (Origin.AddDays(Math.Min(a, b)), Origin.AddDays(Math.Max(a, b)));
            var response = UsageHistoryBuilder.Build(Query(from, to), Rows(Stream(fleet)), floor: 1);
            var expected = Enumerable.Range(Math.Min(a, b), Math.Abs(a - b) + 1).Select(d => (uint)fleet.Count(host => ListenedOn(host, d))).ToArray();
            var actual = response.Series.SingleOrDefault(s => s.ProcessName == "rpc.statd")?.Points.Select(p => p.Hosts).ToArray() ?? new uint[expected.Length];
            Assert.Equal(expected.All(e => e == 0) ? new uint[expected.Length] : expected, actual);
        });
    }

    [Fact]
    public void Loaded_levels_come_back_exactly_and_weeks_and_months_show_their_busiest_day()
    {
        Gen.Int[0, 60].Array[Days].Sample(levels =>
        {
            var days = levels.Select((hosts, i) => (Origin.AddDays(i), hosts, hosts / 3)).Where(d => d.hosts > 0).ToList();
            var deltas = UsageLoadDeltas.Of([((443, Transport.Tcp), 7, (IReadOnlyList<(DateOnly, int, int)>)days)]);
            var rows = Rows(deltas);
            var daily = UsageHistoryBuilder.Build(Query(Origin, Origin.AddDays(Days - 1)), rows, floor: 1);
            if (days.Count == 0)
            {
                Assert.Empty(daily.Series);
                return;
            }

            var series = daily.Series.Single(s => s.ProcessName == "rpc.statd");
            Assert.Equal(levels.Select(l => (uint)l), series.Points.Select(p => p.Hosts));
            Assert.Equal(levels.Select(l => (uint)(l / 3)), series.Points.Select(p => p.Reachable));
            Assert.Equal(levels.Select(l => (uint)l), daily.Series.Single(s => s.Total).Points.Select(p => p.Hosts));

            var monthly = UsageHistoryBuilder.Build(Query(Origin, Origin.AddDays(Days - 1)) with { Granularity = UsageGranularity.Month }, rows, floor: 1);
            var byMonth = levels.Select((l, i) => (Month: Origin.AddDays(i).Month, l)).GroupBy(x => x.Month).Select(g => (uint)g.Max(x => x.l));
            Assert.Equal(byMonth, monthly.Series.Single(s => s.ProcessName == "rpc.statd").Points.Select(p => p.Hosts));
        });
    }

    [Fact]
    public void Below_the_floor_a_reader_sees_neither_the_count_nor_the_process()
    {
        // Two hosts of a process for a week: an admin sees it; a reader sees "fewer than 3" under "other".
        var deltas = UsageLoadDeltas.Of([((776, Transport.Udp), 7, (IReadOnlyList<(DateOnly, int, int)>)[.. Enumerable.Range(0, 7).Select(i => (Origin.AddDays(i), 2, 2))])]);
        var rows = Rows(deltas);
        var admin = UsageHistoryBuilder.Build(Query(Origin, Origin.AddDays(6)), rows, floor: 3);
        Assert.Equal(Enumerable.Repeat(2u, 7), admin.Series.Single(s => s.ProcessName == "rpc.statd").Points.Select(p => p.Hosts));
        var reader = UsageHistoryBuilder.Build(Query(Origin, Origin.AddDays(6)) with { Admin = false }, rows, floor: 3);
        Assert.DoesNotContain(reader.Series, s => s.ProcessName == "rpc.statd");
        Assert.Empty(reader.Lifetimes);
        Assert.All(reader.Series.Single(s => s.Other).Points, p => Assert.True(p.FewerThanFloor && p.Hosts == 0));
    }

    [Fact]
    public void An_answer_in_columns_reads_back_as_the_same_answer_in_points()
    {
        var granularities = Gen.OneOf(Gen.Const(UsageGranularity.Day), Gen.Const(UsageGranularity.Week), Gen.Const(UsageGranularity.Month));
        Gen.Select(Fleets, Gen.Int[0, Days - 1], Gen.Int[0, Days - 1], granularities, Gen.Bool, Gen.Int[1, 4], Gen.Int[0, 12].Array[Days]).Sample((fleet, a, b, granularity, admin, floor, reporting) =>
        {
            var query = Query(Origin.AddDays(Math.Min(a, b)), Origin.AddDays(Math.Max(a, b))) with { Granularity = granularity, Admin = admin };
            var rows = Rows(Stream(fleet)) with { ReportingHosts = reporting.Select((hosts, i) => (Origin.AddDays(i), hosts)).Where(d => d.hosts > 0).ToDictionary() };
            var points = UsageHistoryBuilder.Build(query, rows, floor);
            var columns = UsageHistoryBuilder.Build(query with { Columns = true }, rows, floor);
            Assert.All(columns.Series, s => Assert.Empty(s.Points));
            Assert.NotEmpty(columns.Buckets);
            Assert.Equal(points, columns.WithPoints());
        });
    }

    [Fact]
    public void A_reader_asking_for_days_before_a_process_first_listened_gets_an_answer_without_it()
    {
        // Three hosts start rpc.statd on day 40 and keep it: its lifetime is stored, but days 0-9 have no series of it.
        var stream = Rows(Stream([[40], [40], [40]]));
        var rows = stream with { Lifetimes = [stream.Lifetimes.Single() with { PeakHosts = 3, PeakDay = Origin.AddDays(40) }] };

        var reader = UsageHistoryBuilder.Build(Query(Origin, Origin.AddDays(9)) with { Admin = false }, rows, floor: 3);

        Assert.Empty(reader.Series);
        Assert.Equal("rpc.statd", Assert.Single(reader.Lifetimes).ProcessName);
    }

    private static UsageQuery Query(DateOnly from, DateOnly to) => new(443, null, from, to, UsageGranularity.Day, 5, Admin: true);

    private static bool ListenedOn(int[] toggles, int day)
    {
        var startsListening = toggles.Count(t => t < day) % 2 == 1;
        return startsListening || toggles.Contains(day) && toggles.Count(t => t <= day) % 2 == 1;
    }

    /// <summary>The change stream of the fleet as the journal writes it: a delta per host and day (flushes add up, so one per change is the same).</summary>
    private static IEnumerable<UsageDelta> Stream(int[][] fleet) =>
        fleet.SelectMany(toggles => toggles.Select((day, i) =>
        {
            var at = Origin.AddDays(day).ToDateTime(new TimeOnly(12, 0), DateTimeKind.Utc);
            return i % 2 == 0
                ? new UsageDelta(443, Transport.Tcp, 7, true, Origin.AddDays(day), 1, 0, at, at, null)
                : new UsageDelta(443, Transport.Tcp, 7, true, Origin.AddDays(day), 0, 1, null, null, at);
        }));

    /// <summary>What the store would hold after those deltas: summed per day and per month, with a lifetime for the process.</summary>
    private static UsageRows Rows(IEnumerable<UsageDelta> deltas)
    {
        var list = deltas.ToList();
        var days = list.GroupBy(d => (d.Transport, d.ProcessId, d.Reachable, d.Day))
            .Select(g => new StoredUsageRow(g.Key.Transport, g.Key.ProcessId, g.Key.Reachable, g.Key.Day, g.Sum(d => d.Added), g.Sum(d => d.Removed))).ToList();
        var months = days.GroupBy(d => (d.Transport, d.ProcessId, d.Reachable, new DateOnly(d.Start.Year, d.Start.Month, 1)))
            .Select(g => new StoredUsageRow(g.Key.Transport, g.Key.ProcessId, g.Key.Reachable, g.Key.Item4, g.Sum(d => d.Added), g.Sum(d => d.Removed))).ToList();
        var lifetimes = list.Where(d => d.ProcessId != ListenerDelta.HostPresence).GroupBy(d => (d.Transport, d.ProcessId))
            .Select(g => new StoredLifetime(g.Key.Transport, g.Key.ProcessId, "rpc.statd", "/usr/sbin/rpc.statd",
                g.Min(d => d.FirstAddedAt ?? d.LastRemovedAt!.Value), g.Max(d => d.LastAddedAt ?? d.LastRemovedAt!.Value), g.Max(d => d.LastRemovedAt), 0, null)).ToList();
        return new UsageRows(months, days, lifetimes, new Dictionary<DateOnly, int>(), null);
    }
}
