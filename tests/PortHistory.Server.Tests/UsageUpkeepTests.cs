using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Usage;
using PortHistory.Server.Persistence.Usage;
using PortHistory.Server.Persistence.Watch;
using PortHistory.Observations;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>
/// The usage history's upkeep on a real PostgreSQL: closing a day (reporting hosts, busiest days) is all or nothing
/// when its connection dies halfway, and a rerun gives the rows of a clean close; rows that arrived before their
/// month's partition move into it; retention drops whole partitions and keeps the monthly rows.
/// </summary>
[Collection(OwnServerCollection.Name)]
public sealed class UsageUpkeepTests(PostgresFixture fixture)
{
    private static readonly DateOnly Day = new(2025, 3, 10);

    [Fact]
    public async Task A_day_close_cut_off_halfway_leaves_nothing_and_the_rerun_gives_the_rows_of_a_clean_close()
    {
        await using var database = await fixture.MigratedDatabaseAsync("usageclose");
        var maintenance = new UsageMaintenance(database);
        // rpc.statd on 4 hosts from the 8th, 7 on the 10th, 5 on the 11th; three hosts reported on the 10th (one was gone by then).
        await LoadAsync(database, 776, [(Day.AddDays(-2), 4), (Day.AddDays(-1), 4), (Day, 7), (Day.AddDays(1), 5)]);
        await ResetPeaksAsync(database);
        foreach (var (host, seen) in new[] { ("a", Day), ("b", Day), ("c", Day.AddDays(1)), ("gone", Day.AddDays(-5)) }) await AddHostAsync(database, host, seen);

        // The close's second statement waits on a lock; its connection is cut meanwhile, as a silo dying would.
        await using (var blocker = await database.OpenConnectionAsync())
        {
            await using var hold = await blocker.BeginTransactionAsync();
            await using (var lockTable = new NpgsqlCommand("LOCK TABLE usage_lifetimes IN EXCLUSIVE MODE", blocker, hold)) await lockTable.ExecuteNonQueryAsync();
            var closing = maintenance.CloseDayAsync(Day, 7, DateTime.UtcNow, CancellationToken.None);
            var pid = await Eventually.Async(() => database.ScalarAsync<int?>(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database() LIMIT 1"), p => p is not null);
            await database.ScalarAsync<bool>($"SELECT pg_terminate_backend({pid})");
            await Assert.ThrowsAnyAsync<Exception>(() => closing);
            await hold.RollbackAsync();
        }

        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM usage_fleet_days"));
        Assert.Equal(0, await database.ScalarAsync<int>("SELECT peak_hosts FROM usage_lifetimes"));

        // The rerun, and a second one: the rows of one clean close.
        await maintenance.CloseDayAsync(Day, 7, DateTime.UtcNow, CancellationToken.None);
        var first = await FleetAndPeakAsync(database);
        await maintenance.CloseDayAsync(Day, 7, DateTime.UtcNow, CancellationToken.None);
        Assert.Equal(first, await FleetAndPeakAsync(database));
        Assert.Equal((3, 7, Day), first);
    }

    [Fact]
    public async Task Rows_that_came_before_their_partition_move_into_it_and_retention_drops_partitions_but_keeps_months()
    {
        await using var database = await fixture.MigratedDatabaseAsync("usageretention");
        var (store, maintenance) = (new UsageStore(database), new UsageMaintenance(database));
        var january = new DateOnly(2015, 1, 1);
        await LoadAsync(database, 771, [.. Enumerable.Range(0, 59).Select(i => (january.AddDays(i), i < 31 ? 5 : 7))]);
        Assert.Equal(2, await maintenance.EnsurePartitionsAsync(january, january.AddMonths(1), CancellationToken.None));
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM usage_days_default"));
        Assert.Equal(await database.ScalarAsync<long>("SELECT count(*) FROM usage_days"), await database.ScalarAsync<long>("SELECT count(*) FROM usage_days_y2015m01")
            + await database.ScalarAsync<long>("SELECT count(*) FROM usage_days_y2015m02"));
        var before = await new UsageStore(database).ReadAsync(771, Transport.Udp, january, january.AddDays(58), CancellationToken.None);

        // Daily rows past the retention go with their partition; the months still add up to the same levels.
        Assert.Equal(["usage_days_y2015m01"], await maintenance.DropPartitionsBeforeAsync(new DateOnly(2015, 2, 15), CancellationToken.None));
        Assert.Null(await database.ScalarAsync<string?>("SELECT to_regclass('usage_days_y2015m01')::text"));
        var after = await store.ReadAsync(771, Transport.Udp, january, january.AddDays(58), CancellationToken.None);
        Assert.Equal(before.Months, after.Months);
        Assert.DoesNotContain(after.Days, d => d.Start < new DateOnly(2015, 2, 1));
        var query = new UsageQuery(771, Transport.Udp, january, january.AddDays(58), UsageGranularity.Month, 5, Admin: true);
        var monthly = UsageHistoryBuilder.Build(query, after, floor: 3).Series.Single(s => s.ProcessName == "rpc.statd");
        Assert.Equal([5u, 7u], monthly.Points.Select(p => p.Hosts));
        Assert.Equal(UsageHistoryBuilder.Build(query, before, floor: 3).Series, UsageHistoryBuilder.Build(query, after, floor: 3).Series);
    }

    [Fact]
    public async Task The_closer_closes_each_day_once_after_its_grace_on_one_silo_at_a_time()
    {
        await using var database = await fixture.MigratedDatabaseAsync("usagecloser");
        await AddHostAsync(database, "a", Day);
        var clock = new FakeTimeProvider(Day.AddDays(3).ToDateTime(new TimeOnly(1, 0), DateTimeKind.Utc));
        var options = Options.Create(new UsageHistoryOptions { CloseGrace = TimeSpan.FromHours(2) });
        UsageDayCloser Closer() => new(new UsageMaintenance(database), new WatchEventLog(database), options, Options.Create(new VerdictOptions()), clock,
            NullLogger<UsageDayCloser>.Instance);

        // Two silos at once: one closes every day from the host's first report whose grace has passed, the other none. At 01:00
        // the day before is still open (its grace ends at 02:00).
        var runs = await Task.WhenAll(Closer().RunAsync(CancellationToken.None), Closer().RunAsync(CancellationToken.None));
        Assert.Contains(runs, r => r.Count == 0);
        Assert.Equal([.. Enumerable.Range(-3, 5).Select(Day.AddDays)], runs.SelectMany(r => r).Order());
        clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal([Day.AddDays(2)], await Closer().RunAsync(CancellationToken.None));
        Assert.Empty(await Closer().RunAsync(CancellationToken.None));
        Assert.Equal(6L, await database.ScalarAsync<long>("SELECT count(*) FROM usage_fleet_days"));
    }

    [Fact]
    public async Task A_process_first_seen_after_quiet_days_and_a_spike_are_announced_once_even_when_the_day_is_closed_again()
    {
        await using var database = await fixture.MigratedDatabaseAsync("usagesignals");
        await AddHostAsync(database, "a", Day.AddDays(-40));
        // 776/udp: rpc.statd on 40 hosts for 40 days, then 120 on the closed day; an odd process starts there on 5 hosts that day
        // (the port's total, added up by the loads: 40, then 125).
        await LoadAsync(database, 776, [.. Enumerable.Range(-40, 40).Select(i => (Day.AddDays(i), 40)), (Day, 120)]);
        await LoadAsync(database, 776, [(Day, 5)], process: "kworker-x");
        await ExecuteAsync(database, $"INSERT INTO usage_fleet_days VALUES ('{Day.AddDays(-1):yyyy-MM-dd}', 1, now())");
        var clock = new FakeTimeProvider(Day.AddDays(1).ToDateTime(new TimeOnly(3, 0), DateTimeKind.Utc));
        var closer = new UsageDayCloser(new UsageMaintenance(database), new WatchEventLog(database), Options.Create(new UsageHistoryOptions()),
            Options.Create(new VerdictOptions()), clock, NullLogger<UsageDayCloser>.Instance);

        Assert.Equal([Day], await closer.RunAsync(CancellationToken.None));
        // The loaded months got partitions of their own: nothing waits in the default one.
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM usage_days_default"));
        Assert.NotNull(await database.ScalarAsync<string?>("SELECT to_regclass('usage_days_y2025m02')::text"));
        // The close is lost (a crash after the events were raised): the day closes again, and nothing is announced twice.
        await ExecuteAsync(database, $"DELETE FROM usage_fleet_days WHERE day = '{Day:yyyy-MM-dd}'");
        Assert.Equal([Day], await closer.RunAsync(CancellationToken.None));

        var events = await database.ScalarAsync<string>("SELECT string_agg(kind || ':' || port, ',' ORDER BY kind) FROM watch_events");
        Assert.Equal("9:776,10:776", events);
        // rpc.statd ran there all along: only the odd process is first seen.
        Assert.Equal(1L, await database.ScalarAsync<long>("SELECT count(*) FROM watch_events WHERE kind = 9"));
    }

    private static async Task LoadAsync(NpgsqlDataSource database, int port, IReadOnlyList<(DateOnly Day, int Hosts)> levels, string process = "rpc.statd")
    {
        var load = new UsageLoad(DateOnly.FromDateTime(DateTime.UtcNow));
        Assert.True(load.Add(levels.Select(l => new UsageRow
        {
            Day = l.Day.ToString("yyyy-MM-dd"), Port = (uint)port, Transport = Transport.Udp, ProcessName = process, Hosts = (uint)l.Hosts,
        })));
        var loader = new UsageLoader(new PortHistory.Server.Persistence.Hosts.ProcessDictionary(database), new UsageStore(database), NullLogger<UsageLoader>.Instance);
        await loader.CommitAsync(load, "test", CancellationToken.None);
    }

    private static async Task ExecuteAsync(NpgsqlDataSource database, string sql)
    {
        await using var command = database.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task ResetPeaksAsync(NpgsqlDataSource database)
    {
        await using var reset = database.CreateCommand("UPDATE usage_lifetimes SET peak_hosts = 0, peak_day = NULL");
        await reset.ExecuteNonQueryAsync();
    }

    private static Task AddHostAsync(NpgsqlDataSource database, string host, DateOnly seen)
    {
        var at = seen.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        return database.AddHostAsync(host, at, at.AddDays(-3), at.AddHours(12));
    }

    private static async Task<(int ReportingHosts, int Peak, DateOnly PeakDay)> FleetAndPeakAsync(NpgsqlDataSource database) =>
        (await database.ScalarAsync<int>($"SELECT reporting_hosts FROM usage_fleet_days WHERE day = '{Day:yyyy-MM-dd}'"),
            await database.ScalarAsync<int>("SELECT peak_hosts FROM usage_lifetimes"),
            DateOnly.Parse(await database.ScalarAsync<string>("SELECT peak_day::text FROM usage_lifetimes"), System.Globalization.CultureInfo.InvariantCulture));
}
