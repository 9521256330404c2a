using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Usage;
using PortHistory.Server.Persistence.Database;
using PortHistory.Server.Persistence.Hosts;
using PortHistory.Server.Persistence.Usage;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>
/// A database upgraded while hosts were reporting, on a real PostgreSQL: the listeners hosts held when the usage history
/// began are added once, on that day, for hosts online since before then only; a row that cannot be read is left out
/// and counted; the second run adds nothing.
/// </summary>
[Collection(OwnServerCollection.Name)]
public sealed class UsagePrehistoryTests(PostgresFixture fixture)
{
    private static readonly DateTime Began = new(2026, 3, 10, 12, 0, 0, DateTimeKind.Utc);
    private const int Statd = 7;

    [Fact]
    public async Task Listeners_held_when_the_history_began_are_added_once_on_that_day_for_hosts_online_since_before()
    {
        await using var database = await DatabaseAsync("usageprehistory");
        await ExecuteAsync(database, "UPDATE schema_migrations SET applied_at = @began WHERE version = 22");
        HostSocketEntry[] held = [new(776, Transport.Udp, Statd, BindScope.Wildcard, "", Began.AddDays(-30)), new(22, Transport.Tcp, 8, BindScope.Wildcard, "", Began.AddDays(1))];
        await AddHostAsync(database, "online-throughout", HostState.Online, Began.AddDays(-60), Began.AddDays(-90), held);
        await AddHostAsync(database, "came-back-since", HostState.Online, Began.AddDays(1), Began.AddDays(-90), held);
        await AddHostAsync(database, "stale", HostState.Stale, Began.AddDays(-1), Began.AddDays(-90), held);
        await AddHostAsync(database, "new-since", HostState.Online, Began.AddDays(1), Began.AddDays(1), held);
        await AddHostAsync(database, "unreadable", HostState.Online, Began.AddDays(-60), Began.AddDays(-90), held);
        await ExecuteAsync(database, "UPDATE hosts SET sockets = '\\x00ff' WHERE host_ref = 'unreadable'");
        var maintenance = new UsageMaintenance(database);

        Assert.Equal(new PrehistoryCount(1, 1), await maintenance.CountBeforeHistoryAsync(UsagePrehistory.Deltas, CancellationToken.None));
        Assert.Null(await maintenance.CountBeforeHistoryAsync(UsagePrehistory.Deltas, CancellationToken.None));

        var udp = (short)Transport.Udp;
        Assert.Equal([$"776/{udp}/0/True/2026-03-10/1/0", $"776/{udp}/{Statd}/True/2026-03-10/1/0"],
            await RowsAsync(database, "SELECT port, transport, process_id, reachable, day::text, added, removed FROM usage_days ORDER BY 1, 2, 3, 4"));
        Assert.Equal([$"776/{udp}/0/True/2026-03-01/1/0", $"776/{udp}/{Statd}/True/2026-03-01/1/0"],
            await RowsAsync(database, "SELECT port, transport, process_id, reachable, month::text, added, removed FROM usage_months ORDER BY 1, 2, 3, 4"));
        Assert.Equal([$"776/{udp}/{Statd}/True"],
            await RowsAsync(database, "SELECT port, transport, process_id, first_seen = '2026-03-10 12:00:00+00' FROM usage_lifetimes"));
    }

    private async Task<NpgsqlDataSource> DatabaseAsync(string name)
    {
        var connectionString = fixture.Postgres.ConnectionString(name);
        await new SchemaMigrator(NpgsqlDataSource.Create(connectionString), NullLogger<SchemaMigrator>.Instance).MigrateAsync(CancellationToken.None);
        return NpgsqlDataSource.Create(connectionString);
    }

    private static async Task AddHostAsync(NpgsqlDataSource database, string host, HostState state, DateTime stateSince, DateTime firstSeen, HostSocketEntry[] sockets)
    {
        await using var insert = database.CreateCommand("""
            INSERT INTO hosts (host_ref, host_hash, version, state, state_since, epoch_id, epoch_started_at, seq, set_hash, sockets, socket_count, host_group,
                agent_version, privileged, dropped_reports, dropped_bytes, first_seen, last_seen)
            VALUES (@host, 0, 1, @state, @since, 1, @first, 1, '\x00', @sockets, @count, '', '2.0.0', true, 0, 0, @first, @since)
            """);
        insert.Parameters.AddWithValue("host", host);
        insert.Parameters.AddWithValue("state", (short)state);
        insert.Parameters.AddWithValue("since", stateSince);
        insert.Parameters.AddWithValue("first", firstSeen);
        insert.Parameters.AddWithValue("sockets", HostSocketCodec.Encode(sockets));
        insert.Parameters.AddWithValue("count", sockets.Length);
        await insert.ExecuteNonQueryAsync();
    }

    private static async Task ExecuteAsync(NpgsqlDataSource database, string sql)
    {
        await using var command = database.CreateCommand(sql);
        command.Parameters.AddWithValue("began", Began);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<List<string>> RowsAsync(NpgsqlDataSource database, string sql)
    {
        await using var command = database.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync()) rows.Add(string.Join('/', Enumerable.Range(0, reader.FieldCount).Select(reader.GetValue)));
        return rows;
    }
}
