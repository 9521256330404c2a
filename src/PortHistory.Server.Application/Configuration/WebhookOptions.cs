using System.ComponentModel.DataAnnotations;

namespace PortHistory.Server.Application.Configuration;

/// <summary>
/// A webhook the cluster POSTs watch events to, signed with a shared secret. Off while <see cref="Url"/> is unset.
/// The filters take the CLI's words: ports "770-777" or "22", transports "udp", verdicts "squatter", kinds
/// "new-process", "verdict-changed", "ghost-listener", "assignment-changed", "process-gone".
/// </summary>
public sealed class WebhookOptions
{
    public const string Section = "PortHistory:Watch:Webhook";

    [Url]
    public string? Url { get; set; }

    /// <summary>A file holding the HMAC-SHA256 secret (its text, trimmed); required with <see cref="Url"/>.</summary>
    public string? SecretFile { get; set; }

    /// <summary>Names the delivery cursor kept in PostgreSQL: another name starts from the newest event.</summary>
    [RegularExpression("^[a-z0-9][a-z0-9._-]{0,63}$")]
    public string Name { get; set; } = "default";

    public string[] Ports { get; set; } = [];

    public string[] Transports { get; set; } = [];

    public string[] Verdicts { get; set; } = [];

    public string[] ProcessNames { get; set; } = [];

    public string[] Kinds { get; set; } = [];

    /// <summary>Events per POST at most.</summary>
    [Range(1, 1000)]
    public int BatchSize { get; set; } = 50;

    /// <summary>A POST not answered within this is a failure, retried.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The wait after the first failure; it doubles with each failure in a row, up to <see cref="MaxRetryDelay"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);
}
