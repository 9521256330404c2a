using System.ComponentModel.DataAnnotations;

namespace PortHistory.Server.Application.Configuration;

/// <summary>The watch feed: how long events are kept, and what one watcher may hold.</summary>
public sealed class WatchOptions
{
    public const string Section = "PortHistory:Watch";

    /// <summary>Events older than this are deleted; a cursor from before then is refused (OutOfRange).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "3650.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often retention runs (on every silo; the deletes are idempotent).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>A watcher reads the log this often without a notification (one lost or its silo's listener down).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A stream with nothing to send sends its cursor this often (also keeps proxies from closing it).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan PositionInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Watch streams one token may have open at once on one gateway (they also count as calls in flight).</summary>
    [Range(1, 10_000)]
    public int StreamsPerToken { get; set; } = 8;

    /// <summary>
    /// How often an open watch stream checks its token again (from the silo's cache, which revocations evict): a revoked
    /// token's stream ends within this, Unauthenticated.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan TokenCheckInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Events a stream reads from the log at once: its whole buffer, however slowly its caller reads.</summary>
    [Range(1, 10_000)]
    public int PageSize { get; set; } = 256;
}
