namespace PortHistory.Server.Application.Watch;

/// <summary>
/// Who delivers a webhook sink, and how far it got: one deliverer per sink in the cluster, holding a lease that ends
/// with its process, so that another silo takes over and goes on from the stored cursor.
/// </summary>
public interface IWebhookCursors
{
    /// <summary>The lease of the sink's deliverer, or null when another silo delivers it.</summary>
    Task<IWebhookLease?> TryAcquireAsync(string sink, CancellationToken cancellationToken);
}

/// <summary>A held delivery lease and the sink's cursor; moving the cursor fails once the lease is lost.</summary>
public interface IWebhookLease : IAsyncDisposable
{
    /// <summary>The cursor delivered through; a sink seen for the first time starts at <paramref name="start"/> (the newest event).</summary>
    Task<long> CursorAsync(long start, CancellationToken cancellationToken);

    Task AdvanceAsync(long cursor, CancellationToken cancellationToken);
}
