using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Npgsql;
using NpgsqlTypes;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Notifications;
using PortHistory.Server.Application.Watch;

namespace PortHistory.Server.Persistence.Watch;

/// <summary>
/// The watch_events table: raising (once per event id, in commit order), reading after a cursor, and retention.
/// Raising takes a transaction-scoped advisory lock before the ids are drawn, so ids become visible in increasing
/// order: a reader that has seen id N will never find a smaller one appear later. Events are rare next to
/// sightings (a new process, a verdict changing), so the lock serializes little.
/// </summary>
public sealed class WatchEventLog(NpgsqlDataSource dataSource) : IWatchEventSink, IWatchEventLog
{


    private const long RaiseLock = 0x706f7274_77617463; // "portwatc"

    public async Task RaiseAsync(IReadOnlyList<WatchEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0) return;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"""
            SELECT pg_advisory_xact_lock({RaiseLock});
            INSERT INTO watch_events (event_key, kind, port, transport, event)
            SELECT k, kind, port, transport, e FROM unnest(@keys, @kinds, @ports, @transports, @events) AS x(k, kind, port, transport, e)
            ON CONFLICT (event_key) DO NOTHING;
            NOTIFY {NotificationChannels.Watch};
            """, connection, transaction);
        command.Parameters.AddWithValue("keys", events.Select(e => e.EventId).ToArray());
        command.Parameters.AddWithValue("kinds", events.Select(e => (short)e.Kind).ToArray());
        command.Parameters.AddWithValue("ports", events.Select(e => (int)e.Port).ToArray());
        command.Parameters.AddWithValue("transports", events.Select(e => (short)e.Transport).ToArray());
        command.Parameters.Add(new NpgsqlParameter("events", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = events.Select(e => e.ToByteArray()).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<WatchEvent>> ReadAfterAsync(long cursor, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT id, raised_at, event FROM watch_events WHERE id > @cursor ORDER BY id LIMIT @limit");
        command.Parameters.AddWithValue("cursor", cursor);
        command.Parameters.AddWithValue("limit", limit);
        var events = new List<WatchEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var e = WatchEvent.Parser.ParseFrom(reader.GetFieldValue<byte[]>(2));
            e.Cursor = (ulong)reader.GetInt64(0);
            e.RaisedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc));
            events.Add(e);
        }

        return events;
    }

    public async Task<long> LatestCursorAsync(CancellationToken cancellationToken)
    {
        // Ids commit in order (the raise lock): any event not visible yet will get a larger id. Retention may have emptied
        // the table: the newest id it deleted is still a cursor given out.
        await using var command = dataSource.CreateCommand(
            "SELECT greatest(coalesce((SELECT max(id) FROM watch_events), 0), coalesce((SELECT deleted_through FROM watch_retention), 0))");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<long> DeletedThroughAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT deleted_through FROM watch_retention");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<int> DeleteOlderThanAsync(TimeSpan age, CancellationToken cancellationToken)
    {
        // A prefix of ids, never a hole: the horizon below which cursors are refused stays exact.
        await using var command = dataSource.CreateCommand("""
            WITH horizon AS (SELECT max(id) AS id FROM watch_events WHERE raised_at < now() - @age),
                 gone AS (DELETE FROM watch_events WHERE id <= (SELECT id FROM horizon) RETURNING id),
                 moved AS (UPDATE watch_retention SET deleted_through = greatest(deleted_through, (SELECT id FROM horizon))
                           WHERE (SELECT id FROM horizon) IS NOT NULL)
            SELECT count(*)::int FROM gone
            """);
        command.Parameters.AddWithValue("age", age);
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}

