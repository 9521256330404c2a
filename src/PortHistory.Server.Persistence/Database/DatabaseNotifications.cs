using Npgsql;
using PortHistory.Server.Application.Notifications;
using PortHistory.Server.Application.Resilience;

namespace PortHistory.Server.Persistence.Database;

/// <summary>
/// The silo's one LISTEN connection: every handler's channel on it, reconnected with the server's backoff when it
/// drops. A failing handler is logged and called again at the next notification; it never closes the connection.
/// </summary>
public sealed class DatabaseNotifications(NpgsqlDataSource dataSource, IEnumerable<INotificationHandler> handlers, ILogger<DatabaseNotifications> logger)
    : BackgroundService
{
    private static readonly TimeSpan Fallback = TimeSpan.FromSeconds(10);

    private readonly INotificationHandler[] _handlers = [.. handlers];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_handlers.Length == 0) return;
        var pipeline = Backoff.UntilStopped(logger, "Listening for database notifications");
        try
        {
            await pipeline.ExecuteAsync(ListenAsync, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async ValueTask ListenAsync(CancellationToken stoppingToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
        var notified = new HashSet<string>(StringComparer.Ordinal);
        connection.Notification += (_, e) => notified.Add(e.Channel);
        foreach (var channel in _handlers.Select(h => h.Channel).Distinct(StringComparer.Ordinal))
        {
            await using var listen = new NpgsqlCommand($"LISTEN {channel}", connection);
            await listen.ExecuteNonQueryAsync(stoppingToken);
        }

        await NotifyAsync(_handlers, stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            notified.Clear();
            var any = await connection.WaitAsync(Fallback, stoppingToken);
            await NotifyAsync(any ? _handlers.Where(h => notified.Contains(h.Channel)) : _handlers.Where(h => h.RefreshWithoutNotice), stoppingToken);
        }
    }

    private async Task NotifyAsync(IEnumerable<INotificationHandler> due, CancellationToken cancellationToken)
    {
        foreach (var handler in due)
        {
            try
            {
                await handler.OnChangedAsync(cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("Refreshing after a notification on {Channel} failed: {Message}", handler.Channel, e.Message);
            }
        }
    }
}
