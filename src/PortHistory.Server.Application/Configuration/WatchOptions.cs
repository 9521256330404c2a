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

    /// <summary>Events a stream (or the silo's reader) reads from the log at once.</summary>
    [Range(1, 10_000)]
    public int PageSize { get; set; } = 256;

    /// <summary>
    /// Events the silo's reader may hold for one stream its caller has not taken yet; a stream further behind reads the
    /// log itself from its cursor until it has caught up.
    /// </summary>
    [Range(1, 100_000)]
    public int StreamBuffer { get; set; } = 1024;

    /// <summary>The newest events the silo's reader keeps, so that a stream that just caught up from the log joins without a gap.</summary>
    [Range(1, 1_000_000)]
    public int RecentEvents { get; set; } = 4096;
}
