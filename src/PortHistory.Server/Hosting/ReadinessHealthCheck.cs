using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace PortHistory.Server.Hosting;

/// <summary>SERVING only once the silo has started (which is after the schema and catalog are in place) and PostgreSQL answers.</summary>
public sealed class ReadinessHealthCheck(IHostApplicationLifetime lifetime, NpgsqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!lifetime.ApplicationStarted.IsCancellationRequested) return HealthCheckResult.Unhealthy("the silo is starting");
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(timeout.Token);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"PostgreSQL is unavailable: {e.Message}");
        }
    }
}
