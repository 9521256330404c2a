using Microsoft.Extensions.Options;
using PortHistory.Server.Application.Access;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Application.Tests.Access;

/// <summary>Sightings per agent token: the burst, then the rate, with the wait said; each token has a bucket of its own.</summary>
public sealed class SightingRateLimiterTests
{
    [Fact]
    public void An_agent_beyond_its_burst_is_told_how_long_the_missing_sightings_take_to_refill_and_other_agents_are_not()
    {
        using var limiter = new SightingRateLimiter(Options.Create(new RateLimitOptions { SightingsPerSecond = 2, Burst = 10 }), new PortHistoryMetrics());

        Assert.Equal(TimeSpan.Zero, limiter.TryTake("tok_agent", 10));
        var wait = limiter.TryTake("tok_agent", 10);

        // Ten sightings at two per second: five seconds, less what refilled meanwhile (at most a 100 ms top-up).
        Assert.InRange(wait, TimeSpan.FromSeconds(4.5), TimeSpan.FromSeconds(5));
        Assert.Equal(TimeSpan.Zero, limiter.TryTake("tok_other", 10));
    }

    [Fact]
    public void A_batch_larger_than_the_burst_is_admitted_from_a_full_bucket_and_an_empty_batch_costs_one()
    {
        using var limiter = new SightingRateLimiter(Options.Create(new RateLimitOptions { SightingsPerSecond = 1, Burst = 3 }), new PortHistoryMetrics());

        Assert.Equal(TimeSpan.Zero, limiter.TryTake("tok_agent", 5000));
        Assert.NotEqual(TimeSpan.Zero, limiter.TryTake("tok_agent", 0));
    }
}
