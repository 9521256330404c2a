using System.ComponentModel.DataAnnotations;

namespace PortHistory.Server.Application.Configuration;

/// <summary>Following the registry by itself: which sources are fetched, how often, and within which bounds.</summary>
public sealed class FollowOptions
{
    public const string Section = "PortHistory:Follow";

    /// <summary>IANA's current file: what the server follows when no source is configured.</summary>
    public const string IanaXml = "https://www.iana.org/assignments/service-names-port-numbers/service-names-port-numbers.xml";

    public bool Enabled { get; set; } = true;

    /// <summary>HTTP(S) URLs, local files or directories (an offline mirror: the newest file in it). None: <see cref="IanaXml"/>.</summary>
    public string[] Sources { get; set; } = [];

    /// <summary>How often each source is fetched once it answered.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "30.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromDays(1);

    /// <summary>After a failure the next try waits this long, doubling with each further failure, up to <see cref="Interval"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A whole fetch (connect, headers, body) gives up after this long.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Largest body accepted, in bytes (after decompression); the registry is about 4 MB.</summary>
    [Range(1024L, 1L << 31)]
    public long MaxBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>How often a silo looks whether it holds the follower's lease and whether a source is due.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The registry-following health service reports degraded once the newest edition is older than this.</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromDays(60);

    public IReadOnlyList<string> EffectiveSources => Sources.Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s.Trim()).ToArray() is { Length: > 0 } configured
        ? configured
        : [IanaXml];
}
