using Npgsql;
using PortHistory.Server.Application.Notifications;
using PortHistory.Server.Application.Resilience;

namespace PortHistory.Server.Persistence.Database;

/// <summary>
/// The silo's one LISTEN connection: every handler's channel on it, reconnected with the server's backoff when it
/// drops. A failing handler is logged and called again at the next notification; it never closes the connection.
/// It starts once the schema is in place: the handlers read tables a fresh database does not have yet.
/// </summary>
public sealed class DatabaseNotifications(
    NpgsqlDataSource dataSource,
    SchemaMigrator migrator,
    IEnumerable<INotificationHandler> handlers,
    ILogger<DatabaseNotifications> logger) : BackgroundService
{
    private static readonly TimeSpan Fallback = TimeSpan.FromSeconds(10);

    private readonly INotificationHandler[] _handlers = [.. handlers];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_handlers.Length == 0) return;
        var pipeline = Backoff.UntilStopped(logger, "Listening for database notifications");
        try
        {
            await migrator.Migrated.WaitAsync(stoppingToken);
            await pipeline.ExecuteAsync(ListenAsync, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async ValueTask ListenAsync(CancellationToken stoppingToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
        var notified = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        connection.Notification += (_, e) =>
        {
            if (!notified.TryGetValue(e.Channel, out var payloads)) notified[e.Channel] = payloads = [];
            payloads.Add(e.Payload);
        };
        foreach (var channel in _handlers.Select(h => h.Channel).Distinct(StringComparer.Ordinal))
        {
            await using var listen = new NpgsqlCommand($"LISTEN {channel}", connection);
            await listen.ExecuteNonQueryAsync(stoppingToken);
        }

        await NotifyAsync(_handlers, null, stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            notified.Clear();
            var any = await connection.WaitAsync(Fallback, stoppingToken);
            if (any) await NotifyAsync(_handlers.Where(h => notified.ContainsKey(h.Channel)), notified, stoppingToken);
            else await NotifyAsync(_handlers.Where(h => h.RefreshWithoutNotice), null, stoppingToken);
        }
    }

    /// <param name="payloads">By channel, what the notifications said; null to refresh everything.</param>
    private async Task NotifyAsync(IEnumerable<INotificationHandler> due, Dictionary<string, List<string>>? payloads, CancellationToken cancellationToken)
    {
        foreach (var handler in due)
        {
            try
            {
                if (payloads is null) await handler.OnChangedAsync(cancellationToken);
                else await handler.OnNotifiedAsync(payloads[handler.Channel], cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("Refreshing after a notification on {Channel} failed: {Message}", handler.Channel, e.Message);
            }
        }
    }
}
