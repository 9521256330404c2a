using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace PortHistory.Server.Hosting;

/// <summary>
/// SERVING only once the silo has started (which is after the schema and catalog are in place) and PostgreSQL answers.
/// PostgreSQL is asked at most once a second, however many probes call: the health service needs no token, so its
/// callers must not be able to turn it into database load.
/// </summary>
public sealed class ReadinessHealthCheck(
    IHostApplicationLifetime lifetime,
    NpgsqlDataSource dataSource,
    TimeProvider clock,
    ILogger<ReadinessHealthCheck> logger) : IHealthCheck
{
    public const string Name = "ready";
    private static readonly TimeSpan Fresh = TimeSpan.FromSeconds(1);
    private readonly HealthChanges _changes = new(logger, Name);
    private readonly Lock _gate = new();
    private Task<HealthCheckResult>? _last;
    private DateTimeOffset _askedAt;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!lifetime.ApplicationStarted.IsCancellationRequested) return Task.FromResult(HealthCheckResult.Unhealthy("the silo is starting"));
        lock (_gate)
        {
            var now = clock.GetUtcNow();
            // A check in flight is shared; a finished one is reused while fresh.
            if (_last is null || (_last.IsCompleted && now - _askedAt >= Fresh))
            {
                _askedAt = now;
                _last = AskDatabaseAsync();
            }

            return _last;
        }
    }

    private async Task<HealthCheckResult> AskDatabaseAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(timeout.Token);
            return _changes.Record(HealthCheckResult.Healthy("PostgreSQL answers"));
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return _changes.Record(HealthCheckResult.Unhealthy($"PostgreSQL is unavailable: {e.Message}"));
        }
    }
}
