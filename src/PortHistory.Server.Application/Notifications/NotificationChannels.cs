namespace PortHistory.Server.Application.Notifications;

/// <summary>The channels silos tell each other on (PostgreSQL NOTIFY): the writer of a change and its listeners name them here.</summary>
public static class NotificationChannels
{
    /// <summary>A generation was committed: every silo rereads its edition catalog.</summary>
    public const string Catalog = "porthistory_catalog";

    /// <summary>A token was revoked or replaced: cached lookups of it are forgotten.</summary>
    public const string Tokens = "porthistory_tokens";

    /// <summary>Watch events were raised: watchers read after their cursors.</summary>
    public const string Watch = "porthistory_watch";

    /// <summary>The operators' expectations changed: every silo rereads them.</summary>
    public const string Expectations = "porthistory_expectations";
}
