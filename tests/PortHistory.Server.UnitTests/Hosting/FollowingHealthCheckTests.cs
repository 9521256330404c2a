using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Following;
using PortHistory.Server.Hosting;

namespace PortHistory.Server.UnitTests.Hosting;

/// <summary>Following is degraded once the newest edition is older than the configured age, however the server itself is.</summary>
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

    private static Task<HealthCheckResult> Check(IEditionCatalog catalog, FollowOptions options) =>
        new FollowingHealthCheck(catalog, new FollowStatus(), Options.Create(options), new Clock()).CheckHealthAsync(new HealthCheckContext());

    private sealed class Clock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => Today;
    }

    private sealed class Catalog(CatalogSnapshot current) : IEditionCatalog
    {
        public CatalogSnapshot Current => current;

        public bool IsCommitted(long generation) => true;

        public Task AtLeastAsync(long generation, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
