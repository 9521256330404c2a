namespace PortHistory.Server.Application.Notifications;

/// <summary>Something a silo keeps in memory that another silo's commit can make stale, told so by NOTIFY on its channel.</summary>
public interface INotificationHandler
{
    string Channel { get; }

    /// <summary>Also refreshed every little while without a notification, in case one was lost.</summary>
    bool RefreshWithoutNotice { get; }

    /// <summary>Called after (re)connecting (notifications may have been missed meanwhile), and as a fallback: refresh everything.</summary>
    Task OnChangedAsync(CancellationToken cancellationToken);

    /// <summary>Called with the payloads of the notifications received together; by default, the same as <see cref="OnChangedAsync"/>.</summary>
    Task OnNotifiedAsync(IReadOnlyList<string> payloads, CancellationToken cancellationToken) => OnChangedAsync(cancellationToken);
}
