using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Following;
using PortHistory.Server.Hosting;

namespace PortHistory.Server.UnitTests.Hosting;

/// <summary>
/// Following is degraded once the newest edition is older than the configured age, however the server itself is; its
/// turns are logged, not its every run.
/// </summary>
public sealed class FollowingHealthCheckTests
{
    private static readonly DateTimeOffset Today = new(2026, 9, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(2026, 8, 17, HealthStatus.Healthy)]
    [InlineData(2026, 6, 1, HealthStatus.Unhealthy)]
    public async Task The_newest_edition_decides(int year, int month, int day, HealthStatus expected)
    {
        var catalog = new Catalog(new CatalogSnapshot(1, [new EditionRef { Id = "newest", EffectiveDate = new Google.Type.Date { Year = year, Month = month, Day = day } }]));

        var result = await Check(catalog, new FollowOptions { StaleAfter = TimeSpan.FromDays(30) });

        Assert.Equal(expected, result.Status);
        Assert.Contains($"newest edition newest ({year:0000}-{month:00}-{day:00})", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nothing_imported_yet_is_degraded_and_not_following_is_healthy()
    {
        var empty = new Catalog(CatalogSnapshot.Empty);

        Assert.Equal(HealthStatus.Unhealthy, (await Check(empty, new FollowOptions())).Status);
        Assert.Equal(HealthStatus.Healthy, (await Check(empty, new FollowOptions { Enabled = false })).Status);
    }

    [Fact]
    public async Task Turning_degraded_and_back_is_logged_once_each_not_at_every_run()
    {
        var catalog = new MovingCatalog(new DateOnly(2026, 6, 1));
        var logger = new FakeLogger<FollowingHealthCheck>();
        var check = new FollowingHealthCheck(catalog, new FollowStatus(), Options.Create(new FollowOptions { StaleAfter = TimeSpan.FromDays(30) }), new Clock(), logger);

        for (var run = 0; run < 3; run++) await check.CheckHealthAsync(new HealthCheckContext());
        catalog.Newest = new DateOnly(2026, 8, 17);
        for (var run = 0; run < 3; run++) await check.CheckHealthAsync(new HealthCheckContext());
        catalog.Newest = new DateOnly(2026, 6, 1);
        await check.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(
            [(LogLevel.Warning, "unhealthy"), (LogLevel.Information, "healthy again"), (LogLevel.Warning, "unhealthy")],
            logger.Collector.GetSnapshot().Select(r => (r.Level, r.Message.Contains("healthy again", StringComparison.Ordinal) ? "healthy again" : "unhealthy")));
    }

    private static Task<HealthCheckResult> Check(IEditionCatalog catalog, FollowOptions options) =>
        new FollowingHealthCheck(catalog, new FollowStatus(), Options.Create(options), new Clock(), NullLogger<FollowingHealthCheck>.Instance)
            .CheckHealthAsync(new HealthCheckContext());

    private sealed class Clock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => Today;
    }

    private sealed class MovingCatalog(DateOnly newest) : IEditionCatalog
    {
        public DateOnly Newest { get; set; } = newest;

        public CatalogSnapshot Current =>
            new(1, [new EditionRef { Id = "newest", EffectiveDate = new Google.Type.Date { Year = Newest.Year, Month = Newest.Month, Day = Newest.Day } }]);

        public bool IsCommitted(long generation) => true;

        public Task AtLeastAsync(long generation, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class Catalog(CatalogSnapshot current) : IEditionCatalog
    {
        public CatalogSnapshot Current => current;

        public bool IsCommitted(long generation) => true;

        public Task AtLeastAsync(long generation, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
