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

    /// <summary>A process starting on a port after this many days with no host running it there is announced (USAGE_FIRST_SEEN).</summary>
    [Range(1, 3650)]
    public int QuietDays { get; set; } = 30;

    /// <summary>The days before a closed day that its hosts are compared with for a spike.</summary>
    [Range(7, 366)]
    public int SpikeBaselineDays { get; set; } = 28;

    /// <summary>A spike: the day's hosts above the baseline's median by more than this many median absolute deviations (at least one host each).</summary>
    [Range(1.0, 1000.0)]
    public double SpikeDeviations { get; set; } = 6;

    /// <summary>And by at least this many hosts: small ports jump by a few hosts all the time.</summary>
    [Range(1, 1_000_000)]
    public int SpikeMinimumRise { get; set; } = 10;
}
