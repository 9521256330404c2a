using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Following;

namespace PortHistory.Server.Hosting;

/// <summary>
/// Whether the registry is being followed: degraded once the newest committed edition is older than
/// <see cref="FollowOptions.StaleAfter"/> (IANA publishes several times a month), with what the follower last saw.
/// Served as the gRPC health service <see cref="ServiceName"/> (NOT_SERVING while degraded), apart from the server's
/// own readiness: a registry that cannot be reached is no reason to stop answering.
/// </summary>
public sealed class FollowingHealthCheck(
    IEditionCatalog catalog,
    FollowStatus status,
    IOptions<FollowOptions> options,
    TimeProvider clock,
    ILogger<FollowingHealthCheck> logger) : IHealthCheck
{
    public const string Name = "registry-following";
    public const string ServiceName = "porthistory.registry.following";
    private readonly HealthChanges _changes = new(logger, Name);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!options.Value.Enabled) return Task.FromResult(HealthCheckResult.Healthy("not following (PortHistory:Follow:Enabled is false)"));
        var newest = catalog.Current.Latest;
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var date = newest is null ? (DateOnly?)null : new DateOnly(newest.EffectiveDate.Year, newest.EffectiveDate.Month, newest.EffectiveDate.Day);
        var sources = string.Join("; ", status.Sources.Select(s =>
            $"{s.Source}: last answered {s.LastSuccessAt?.ToString("u") ?? "never"}, last new edition {s.LastChangeAt?.ToString("u") ?? "never"}" +
            (s.ConsecutiveFailures > 0 ? $", {s.ConsecutiveFailures} failure(s) in a row ({s.LastError})" : "")));
        var description = $"newest edition {newest?.Id ?? "none"}{(date is { } d ? $" ({d:yyyy-MM-dd})" : "")}; {sources}";
        var stale = date is null || date.Value.AddDays((int)options.Value.StaleAfter.TotalDays) < today;
        return Task.FromResult(_changes.Record(stale ? HealthCheckResult.Unhealthy($"degraded: {description}") : HealthCheckResult.Healthy(description)));
    }
}
