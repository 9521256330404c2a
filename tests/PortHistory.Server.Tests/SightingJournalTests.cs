using Npgsql;
using PortHistory.Server.Application.Sightings;
using PortHistory.Server.Persistence.Sightings;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>
/// The journal as port grains read it, on a real PostgreSQL. A flush writes sightings and listener changes in one
/// transaction, numbered in one sequence; a grain that catches up moves its watermark to the last number it read. So a
/// read must see each flush whole or not at all: one that saw a flush's listener changes without its sightings would
/// move past sightings it never applied, and they would never be counted.
/// </summary>
[Collection(OwnServerCollection.Name)]
public sealed class SightingJournalTests(PostgresFixture fixture)
{
    private const int Port = 776;
    private const int Writer = 7;

    [Fact]
    public async Task A_catch_up_read_sees_a_flush_whole_or_not_at_all_when_it_commits_between_the_two_tables()
    {
        await using var database = await fixture.MigratedDatabaseAsync("journalsnapshot");
        var journal = new SightingJournal(database);

        // A flush holds listener_changes locked, so a read that has taken the sightings waits for it before the changes.
        await using var flush = await database.OpenConnectionAsync();
        await using var transaction = await flush.BeginTransactionAsync();
        await ExecuteAsync(flush, "LOCK TABLE listener_changes IN ACCESS EXCLUSIVE MODE");
        await ExecuteAsync(flush, $"""
            INSERT INTO sighting_journal (writer_id, seq, port, transport, host_hash, host_ref, observed_at, address_family, local_address,
                bind_scope, socket_state, process, executable, pid, username, privileged, container_id, network_namespace, batch_id)
            VALUES ({Writer}, 1, {Port}, 2, 1, 'host-1', now(), 2, '0.0.0.0', 2, 1, 'rpc.statd', '/usr/sbin/rpc.statd', 1, 'root', true, '', '',
                gen_random_uuid())
            """);
        await ExecuteAsync(flush, $"""
            INSERT INTO listener_changes (writer_id, seq, port, transport, process_id, kind, reachable, hosts, changed_at, host_group)
            VALUES ({Writer}, 2, {Port}, 2, 0, 1, true, 1, now(), '')
            """);

        var read = journal.ReadAfterAsync(Port, new Dictionary<int, long>(), CancellationToken.None);
        await Eventually.Async(
            () => database.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"),
            waiting => waiting > 0 || read.IsCompleted);
        await transaction.CommitAsync();

        var during = (await read).Select(e => e.Entry.Seq).ToList();
        Assert.True(during is [] or [1, 2], $"a read during the flush saw seq [{string.Join(", ", during)}]");
        Assert.Equal([1L, 2L], (await journal.ReadAfterAsync(Port, new Dictionary<int, long>(), CancellationToken.None)).Select(e => e.Entry.Seq));
        Assert.Equal([2L], (await journal.ReadAfterAsync(Port, new Dictionary<int, long> { [Writer] = 1 }, CancellationToken.None)).Select(e => e.Entry.Seq));
    }

    [Fact]
    public async Task The_sweep_finds_rows_of_gone_writers_and_rows_of_live_writers_that_waited_past_their_mark()
    {
        await using var database = await fixture.MigratedDatabaseAsync("journalsweep");
        var orphans = new PostgresOrphanedJournal(database);
        var live = await database.ScalarAsync<int>("INSERT INTO sighting_writers (silo) VALUES ('live') RETURNING writer_id");
        var gone = await database.ScalarAsync<int>("INSERT INTO sighting_writers (silo) VALUES ('gone') RETURNING writer_id");
        await using (var connection = await database.OpenConnectionAsync())
        {
            foreach (var (writer, seq, port) in new[] { (live, 1L, 22), (live, 2L, 80), (live, 3L, 80), (live, 4L, 80), (gone, 1L, 22), (gone, 2L, 22) })
            {
                await ExecuteAsync(connection, $"""
                    INSERT INTO listener_changes (writer_id, seq, port, transport, process_id, kind, reachable, hosts, changed_at, host_group)
                    VALUES ({writer}, {seq}, {port}, 1, 0, 1, true, 1, now(), '')
                    """);
            }

            // Port 80 has checkpointed the live writer's first row of it; port 22 nothing.
            await ExecuteAsync(connection, $"INSERT INTO port_watermarks (port, writer_id, seq) VALUES (80, {live}, 2)");
        }

        var timeout = TimeSpan.FromMinutes(1);
        Assert.Empty(await orphans.FindUnappliedAsync(timeout, new Dictionary<int, long>(), CancellationToken.None));
        Assert.Equal([new UnappliedRows(22, live, 1, false), new UnappliedRows(80, live, 3, false)],
            Sorted(await orphans.FindUnappliedAsync(timeout, new Dictionary<int, long> { [live] = 3 }, CancellationToken.None)));

        Assert.Equal(1, await orphans.MarkSiloGoneAsync("gone", CancellationToken.None));
        Assert.Equal([new UnappliedRows(22, gone, 2, true)], await orphans.FindUnappliedAsync(timeout, new Dictionary<int, long>(), CancellationToken.None));
        Assert.Equal([new UnappliedRows(22, live, 1, false), new UnappliedRows(22, gone, 2, true), new UnappliedRows(80, live, 4, false)],
            Sorted(await orphans.FindUnappliedAsync(timeout, new Dictionary<int, long> { [live] = 4 }, CancellationToken.None)));

        static List<UnappliedRows> Sorted(IEnumerable<UnappliedRows> rows) => [.. rows.OrderBy(r => r.Port).ThenBy(r => r.Writer)];
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
