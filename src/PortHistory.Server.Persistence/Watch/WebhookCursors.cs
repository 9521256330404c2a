using Npgsql;
using PortHistory.Server.Application.Watch;
using PortHistory.Server.Persistence.Database;

namespace PortHistory.Server.Persistence.Watch;

/// <summary>
/// Who delivers a webhook sink, and how far it got. The deliverer holds a session advisory lock on a connection of
/// its own (one per cluster, so two silos do not both post), and moves the sink's cursor on that same connection:
/// once that connection is gone the lock is too, and the move fails instead of racing the silo that took over.
/// </summary>
public sealed class WebhookCursors(NpgsqlDataSource dataSource) : IWebhookCursors
{
    private const long DeliveryLock = 0x706f7274_686f6f6b; // "porthook"

    /// <summary>The lease of the sink's deliverer, or null when another silo delivers it.</summary>
    public async Task<IWebhookLease?> TryAcquireAsync(string sink, CancellationToken cancellationToken) =>
        await SessionLock.TryAcquireAsync(dataSource, (int)(DeliveryLock >> 32), sink, cancellationToken) is { } held ? new WebhookLease(held, sink) : null;
}

/// <summary>A held delivery lock and the sink's cursor, read and moved on the connection that holds the lock.</summary>
public sealed class WebhookLease(SessionLock held, string sink) : IWebhookLease
{
    private NpgsqlConnection Connection => held.Connection;

    /// <summary>The cursor delivered through; a sink seen for the first time starts at <paramref name="start"/> (the newest event).</summary>
    public async Task<long> CursorAsync(long start, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO watch_webhook_cursors (sink, cursor) VALUES (@sink, @start) ON CONFLICT (sink) DO NOTHING;
            SELECT cursor FROM watch_webhook_cursors WHERE sink = @sink;
            """, Connection);
        command.Parameters.AddWithValue("sink", sink);
        command.Parameters.AddWithValue("start", start);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task AdvanceAsync(long cursor, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "UPDATE watch_webhook_cursors SET cursor = greatest(cursor, @cursor), delivered_at = now() WHERE sink = @sink", Connection);
        command.Parameters.AddWithValue("sink", sink);
        command.Parameters.AddWithValue("cursor", cursor);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public ValueTask DisposeAsync() => held.DisposeAsync();
}
