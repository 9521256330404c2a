using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Usage;
using PortHistory.Server.Persistence.Usage;

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
        await using var database = await fixture.MigratedDatabaseAsync("usageprehistory");
        await ExecuteAsync(database, "UPDATE schema_migrations SET applied_at = @began WHERE version = 22");
        HostSocketEntry[] held = [new(776, Transport.Udp, Statd, BindScope.Wildcard, "", Began.AddDays(-30)), new(22, Transport.Tcp, 8, BindScope.Wildcard, "", Began.AddDays(1))];
        await database.AddHostAsync("online-throughout", Began.AddDays(-60), Began.AddDays(-90), Began.AddDays(-60), HostState.Online, held);
        await database.AddHostAsync("came-back-since", Began.AddDays(1), Began.AddDays(-90), Began.AddDays(1), HostState.Online, held);
        await database.AddHostAsync("stale", Began.AddDays(-1), Began.AddDays(-90), Began.AddDays(-1), HostState.Stale, held);
        await database.AddHostAsync("new-since", Began.AddDays(1), Began.AddDays(1), Began.AddDays(1), HostState.Online, held);
        await database.AddHostAsync("unreadable", Began.AddDays(-60), Began.AddDays(-90), Began.AddDays(-60), HostState.Online, held);
        await ExecuteAsync(database, "UPDATE hosts SET sockets = '\\x00ff' WHERE host_ref = 'unreadable'");
        var maintenance = new UsageMaintenance(database);

        Assert.Equal(new PrehistoryCount(1, 1), await maintenance.CountBeforeHistoryAsync(UsagePrehistory.Deltas, CancellationToken.None));
        Assert.Null(await maintenance.CountBeforeHistoryAsync(UsagePrehistory.Deltas, CancellationToken.None));

        var udp = (short)Transport.Udp;
        Assert.Equal([$"776/{udp}/0/True/2026-03-10/1/0", $"776/{udp}/{Statd}/True/2026-03-10/1/0"],
            await database.RowsAsync("SELECT port, transport, process_id, reachable, day::text, added, removed FROM usage_days ORDER BY 1, 2, 3, 4"));
        Assert.Equal([$"776/{udp}/0/True/2026-03-01/1/0", $"776/{udp}/{Statd}/True/2026-03-01/1/0"],
            await database.RowsAsync("SELECT port, transport, process_id, reachable, month::text, added, removed FROM usage_months ORDER BY 1, 2, 3, 4"));
        Assert.Equal([$"776/{udp}/{Statd}/True"],
            await database.RowsAsync("SELECT port, transport, process_id, first_seen = '2026-03-10 12:00:00+00' FROM usage_lifetimes"));
    }

    private static async Task ExecuteAsync(NpgsqlDataSource database, string sql)
    {
        await using var command = database.CreateCommand(sql);
        command.Parameters.AddWithValue("began", Began);
        await command.ExecuteNonQueryAsync();
    }
}
