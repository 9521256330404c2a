using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Hosts;
using PortHistory.Server.Persistence.Database;
using PortHistory.Server.Persistence.Hosts;
using PortHistory.Server.Persistence.Usage;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>
/// Last-seen times on a real PostgreSQL: the pulse writes them apart from the host rows (a narrow table, so a write does
/// not rewrite the row and its socket set), and every reader takes the later of the two times: the grain's load, the
/// listing, the sweep for silent hosts and the day's count of reporting hosts.
/// </summary>
[Collection(OwnServerCollection.Name)]
public sealed class HostTableTests(PostgresFixture fixture)
{
    private static readonly DateTime T0 = new(2026, 3, 10, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public async Task The_pulse_writes_beside_the_host_row_and_loads_listings_and_sweeps_take_the_later_time()
    {
        await using var database = await DatabaseAsync("hostseen");
        var table = new HostTable(database);
        foreach (var host in new[] { "heard", "silent" }) await AddHostAsync(database, host, T0);

        await table.WriteLastSeenAsync([Pulse("heard", T0.AddMinutes(10)), Pulse("never-stored", T0.AddMinutes(10))], CancellationToken.None);
        await table.WriteLastSeenAsync([Pulse("heard", T0.AddMinutes(5))], CancellationToken.None);

        Assert.Equal(T0, await ScalarAsync<DateTime>(database, "SELECT last_seen FROM hosts WHERE host_ref = 'heard'"));
        Assert.Equal(["heard"], await ColumnAsync(database, "SELECT host_ref FROM host_seen ORDER BY host_ref"));
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
        await using var database = await DatabaseAsync("hostfigures");
        var table = new HostTable(database);
        await AddHostAsync(database, "agent", T0);
        const string RowVersion = "SELECT xmin::text FROM hosts WHERE host_ref = 'agent'";
        var written = await ScalarAsync<string>(database, RowVersion);

        await table.WriteLastSeenAsync([Pulse("agent", T0.AddMinutes(6))], CancellationToken.None);
        Assert.Equal(written, await ScalarAsync<string>(database, RowVersion));

        await table.WriteLastSeenAsync([Pulse("agent", T0.AddMinutes(12)) with { AgentVersion = "2.1.0", DroppedReports = 3 }], CancellationToken.None);
        Assert.NotEqual(written, await ScalarAsync<string>(database, RowVersion));
        var row = (await table.LoadAsync("agent", CancellationToken.None))!;
        Assert.Equal(("2.1.0", 3UL, T0.AddMinutes(12)), (row.AgentVersion, row.DroppedReports, row.LastSeen));
    }

    [Fact]
    public async Task A_host_heard_only_by_its_pulse_on_a_day_counts_among_that_days_reporting_hosts()
    {
        await using var database = await DatabaseAsync("hostseenday");
        var day = DateOnly.FromDateTime(T0);
        await AddHostAsync(database, "pulsed", T0.AddDays(-2));
        await AddHostAsync(database, "gone", T0.AddDays(-2));
        await new HostTable(database).WriteLastSeenAsync([Pulse("pulsed", T0)], CancellationToken.None);

        await new UsageMaintenance(database).CloseDayAsync(day, 7, DateTime.UtcNow, CancellationToken.None);

        Assert.Equal(1, await ScalarAsync<int>(database, $"SELECT reporting_hosts FROM usage_fleet_days WHERE day = '{day:yyyy-MM-dd}'"));
    }

    private static HostPulseRow Pulse(string host, DateTime seen) => new(host, seen, "2.0.0", 0, 0);

    private async Task<NpgsqlDataSource> DatabaseAsync(string name)
    {
        var connectionString = fixture.Postgres.ConnectionString(name);
        await new SchemaMigrator(NpgsqlDataSource.Create(connectionString), NullLogger<SchemaMigrator>.Instance).MigrateAsync(CancellationToken.None);
        return NpgsqlDataSource.Create(connectionString);
    }

    private static async Task AddHostAsync(NpgsqlDataSource database, string host, DateTime seen)
    {
        await using var insert = database.CreateCommand("""
            INSERT INTO hosts (host_ref, host_hash, version, state, state_since, epoch_id, epoch_started_at, seq, set_hash, sockets, socket_count, host_group,
                agent_version, privileged, dropped_reports, dropped_bytes, first_seen, last_seen)
            VALUES (@host, 0, 1, 1, @seen, 1, @seen, 1, '\x00', '\x01', 0, '', '2.0.0', true, 0, 0, @seen - interval '3 days', @seen)
            """);
        insert.Parameters.AddWithValue("host", host);
        insert.Parameters.AddWithValue("seen", seen);
        await insert.ExecuteNonQueryAsync();
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlDataSource database, string sql)
    {
        await using var command = database.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<List<string>> ColumnAsync(NpgsqlDataSource database, string sql)
    {
        await using var command = database.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync()) values.Add(reader.GetString(0));
        return values;
    }
}
