using System.ComponentModel.DataAnnotations;

namespace PortHistory.Server.Application.Configuration;

public sealed class QueryOptions
{
    public const string Section = "PortHistory:Queries";

    /// <summary>Longest a listing (ListPorts, DiffEditions) may run, a slow reader's time included; then DeadlineExceeded.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromSeconds(60);
}
