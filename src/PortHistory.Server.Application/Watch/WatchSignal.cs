using PortHistory.Server.Application.Notifications;

namespace PortHistory.Server.Application.Watch;

/// <summary>
/// Wakes this silo's watchers when any silo raised events (NOTIFY on the event log's channel, through the silo's one
/// LISTEN connection). Watchers also look every poll interval, so a lost notification only delays them.
/// </summary>
public sealed class WatchSignal : INotificationHandler
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    string INotificationHandler.Channel => NotificationChannels.Watch;

    bool INotificationHandler.RefreshWithoutNotice => true;

    Task INotificationHandler.OnChangedAsync(CancellationToken cancellationToken)
    {
        Signal();
        return Task.CompletedTask;
    }

    /// <summary>Completes at the next signal; take it before reading, so a signal during the read is not missed.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    public void Signal() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
