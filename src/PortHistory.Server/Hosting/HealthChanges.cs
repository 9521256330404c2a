using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace PortHistory.Server.Hosting;

/// <summary>
/// Logs when a health check turns unhealthy and when it recovers, rather than each of its runs: probes and the health
/// publisher run the checks every few seconds, and the health checks service's own line for every unhealthy run (an
/// error each time) is turned off in appsettings.json.
/// </summary>
public sealed class HealthChanges(ILogger logger, string check)
{
    private const int Unknown = 0, Healthy = 1, Unhealthy = 2;
    private int _state = Unknown;

    public HealthCheckResult Record(HealthCheckResult result)
    {
        var state = result.Status == HealthStatus.Unhealthy ? Unhealthy : Healthy;
        var previous = Interlocked.Exchange(ref _state, state);
        if (previous == state) return result;
        if (state == Unhealthy) logger.LogWarning("Health check {Check} is unhealthy: {Description}", check, result.Description);
        else if (previous == Unhealthy) logger.LogInformation("Health check {Check} is healthy again: {Description}", check, result.Description);
        return result;
    }
}
