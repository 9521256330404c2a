using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Hosts;
using PortHistory.Server.Persistence.Database;
using PortHistory.Server.Persistence.Hosts;
using PortHistory.Server.Persistence.Usage;

namespace PortHistory.Server.Tests;

/// <summary>
/// Last-seen times on a real PostgreSQL: the pulse writes them apart from the host rows, packed 128 hosts to a row (a
/// write rewrites neither a host row with its socket set nor a row per host), and every reader takes the later of the
/// two times: the grain's load, the listing, the sweep for silent hosts and the day's count of reporting hosts.
/// </summary>
[Collection(OwnServerCollection.Name)]
public sealed class HostTableTests(PostgresFixture fixture)
{
    private static readonly DateTime T0 = new(2026, 3, 10, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public async Task The_pulse_writes_beside_the_host_row_and_loads_listings_and_sweeps_take_the_later_time()
    {
        await using var database = await fixture.MigratedDatabaseAsync("hostseen");
        var table = new HostTable(database);
        foreach (var host in new[] { "heard", "silent" }) await database.AddHostAsync(host, T0, T0.AddDays(-3), T0);

        await table.WriteLastSeenAsync([Pulse("heard", T0.AddMinutes(10)), Pulse("never-stored", T0.AddMinutes(10))], CancellationToken.None);
        await table.WriteLastSeenAsync([Pulse("heard", T0.AddMinutes(5))], CancellationToken.None);

        Assert.Equal(T0, await database.ScalarAsync<DateTime>("SELECT last_seen FROM hosts WHERE host_ref = 'heard'"));
        Assert.Equal(["heard"], await database.RowsAsync("SELECT host_ref FROM host_seen ORDER BY host_ref"));
        Assert.Equal(T0.AddMinutes(10), (await table.LoadAsync("heard", CancellationToken.None))!.LastSeen);
        Assert.Equal(T0, (await table.LoadAsync("silent", CancellationToken.None))!.LastSeen);
        var listed = await table.ListAsync(null, null, "", 10, CancellationToken.None);
        Assert.Equal([("heard", T0.AddMinutes(10)), ("silent", T0)], listed.Select(h => (h.HostRef, h.LastSeen)));
        Assert.Equal(["silent"], await table.SilentAsync(HostState.Online, T0.AddMinutes(5), 10, CancellationToken.None));
        Assert.Equal(["silent", "heard"], await table.SilentAsync(HostState.Online, T0.AddMinutes(11), 10, CancellationToken.None));
    }

    [Fact]
    public async Task The_agent_figures_reach_the_host_row_only_when_they_moved()
    {
        await using var database = await fixture.MigratedDatabaseAsync("hostfigures");
        var table = new HostTable(database);
        await database.AddHostAsync("agent", T0, T0.AddDays(-3), T0);
        const string RowVersion = "SELECT xmin::text FROM hosts WHERE host_ref = 'agent'";
        var written = await database.ScalarAsync<string>(RowVersion);

        await table.WriteLastSeenAsync([Pulse("agent", T0.AddMinutes(6))], CancellationToken.None);
        Assert.Equal(written, await database.ScalarAsync<string>(RowVersion));

        await table.WriteLastSeenAsync([Pulse("agent", T0.AddMinutes(12)) with { AgentVersion = "2.1.0", DroppedReports = 3 }], CancellationToken.None);
        Assert.NotEqual(written, await database.ScalarAsync<string>(RowVersion));
        var row = (await table.LoadAsync("agent", CancellationToken.None))!;
        Assert.Equal(("2.1.0", 3UL, T0.AddMinutes(12)), (row.AgentVersion, row.DroppedReports, row.LastSeen));
    }

    [Fact]
    public async Task A_host_heard_only_by_its_pulse_on_a_day_counts_among_that_days_reporting_hosts()
    {
        await using var database = await fixture.MigratedDatabaseAsync("hostseenday");
        var day = DateOnly.FromDateTime(T0);
        await database.AddHostAsync("pulsed", T0.AddDays(-2), T0.AddDays(-5), T0.AddDays(-2));
        await database.AddHostAsync("gone", T0.AddDays(-2), T0.AddDays(-5), T0.AddDays(-2));
        await new HostTable(database).WriteLastSeenAsync([Pulse("pulsed", T0)], CancellationToken.None);

        await new UsageMaintenance(database).CloseDayAsync(day, 7, DateTime.UtcNow, CancellationToken.None);

        Assert.Equal(1, await database.ScalarAsync<int>($"SELECT reporting_hosts FROM usage_fleet_days WHERE day = '{day:yyyy-MM-dd}'"));
    }

    [Fact]
    public async Task A_pulse_writes_one_row_per_page_of_128_hosts_and_writers_of_one_page_keep_each_others_times()
    {
        await using var database = await fixture.MigratedDatabaseAsync("hostseenpages");
        var table = new HostTable(database);
        var hosts = Enumerable.Range(0, 300).Select(i => $"host-{i:D3}").ToList();
        foreach (var host in hosts) await database.AddHostAsync(host, T0, T0.AddDays(-3), T0);
        var slots = await database.RowsAsync("SELECT seen_slot FROM hosts");
        var pages = slots.Select(slot => long.Parse(slot) / 128).Distinct().Count();

        // Two silos' pulses at once, each with every other host of the same pages, several times over.
        for (var round = 1; round <= 5; round++)
        {
            var at = T0.AddMinutes(round * 6);
            await Task.WhenAll(
                table.WriteLastSeenAsync([.. hosts.Where((_, i) => i % 2 == 0).Select(h => Pulse(h, at))], CancellationToken.None),
                table.WriteLastSeenAsync([.. hosts.Where((_, i) => i % 2 == 1).Select(h => Pulse(h, at.AddSeconds(1)))], CancellationToken.None));
        }

        Assert.Equal(pages, await database.ScalarAsync<long>("SELECT count(*) FROM host_seen_pages"));
        Assert.True(pages <= 4, $"300 hosts on {pages} pages");
        var listed = await table.ListAsync(null, null, "", 500, CancellationToken.None);
        Assert.Equal(hosts.Select((h, i) => (h, T0.AddMinutes(30).AddSeconds(i % 2))), listed.Select(h => (h.HostRef, h.LastSeen)));
    }

    [Fact]
    public async Task Last_seen_times_written_one_row_per_host_move_into_the_pages()
    {
        await using var database = await fixture.MigratedDatabaseAsync("hostseenmove");
        foreach (var host in new[] { "pulsed", "unpulsed" }) await database.AddHostAsync(host, T0, T0.AddDays(-3), T0);
        // The schema as migration 0024 left it, with a pulse's time in the one-row-per-host table.
        await using (var before = database.CreateCommand("""
            DROP VIEW host_seen;
            CREATE TABLE host_seen (host_ref text PRIMARY KEY, last_seen timestamptz NOT NULL);
            INSERT INTO host_seen VALUES ('pulsed', '2026-03-10 12:07:00Z');
            DELETE FROM schema_migrations WHERE version = 25;
            """))
        {
            await before.ExecuteNonQueryAsync();
        }

        await using (var migrating = NpgsqlDataSource.Create(database.ConnectionString))
        {
            await new SchemaMigrator(migrating, NullLogger<SchemaMigrator>.Instance).MigrateAsync(CancellationToken.None);
        }

        var table = new HostTable(database);
        Assert.Equal(T0.AddMinutes(7), (await table.LoadAsync("pulsed", CancellationToken.None))!.LastSeen);
        Assert.Equal(T0, (await table.LoadAsync("unpulsed", CancellationToken.None))!.LastSeen);
        Assert.Equal(["pulsed"], await database.RowsAsync("SELECT host_ref FROM host_seen"));
    }

    private static HostPulseRow Pulse(string host, DateTime seen) => new(host, seen, "2.0.0", 0, 0);
}
