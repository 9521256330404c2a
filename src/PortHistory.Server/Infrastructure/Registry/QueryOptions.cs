namespace PortHistory.Server.Infrastructure.Registry;

public sealed class QueryOptions
{
    public const string Section = "PortHistory:Queries";

    /// <summary>Longest a listing (ListPorts, DiffEditions) may run, a slow reader's time included; then DeadlineExceeded.</summary>
    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromSeconds(60);
}
