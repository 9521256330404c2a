using System.ComponentModel.DataAnnotations;

namespace PortHistory.Server.Application.Configuration;

/// <summary>How observed usage is kept over time: when a day closes, and how long daily rows are kept.</summary>
public sealed class UsageHistoryOptions
{
    public const string Section = "PortHistory:UsageHistory";

    /// <summary>A UTC day closes this long after its midnight: reports spooled by hosts that were away still land in it first.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan CloseGrace { get; set; } = TimeSpan.FromHours(2);

    /// <summary>Daily rows are kept this long (monthly rows for ever); older months' partitions are dropped.</summary>
    [Range(typeof(TimeSpan), "31.00:00:00", "36500.00:00:00")]
    public TimeSpan DailyRetention { get; set; } = TimeSpan.FromDays(3653);

    /// <summary>How often one silo of the cluster closes days and keeps the partitions.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(10);
}
