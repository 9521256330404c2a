using Microsoft.Extensions.Options;
using PortHistory.Server.Application.Access;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Application.Tests.Access;

/// <summary>Enrollments per secret: a burst, then a wait that is said; each secret has a bucket of its own.</summary>
public sealed class EnrollmentRateLimiterTests
{
    [Fact]
    public void A_secret_beyond_its_burst_is_told_to_wait_and_other_secrets_are_not()
    {
        using var limiter = new EnrollmentRateLimiter(Options.Create(new RateLimitOptions { EnrollmentBurst = 3, EnrollmentsPerMinute = 1 }), new PortHistoryMetrics());

        Assert.All(Enumerable.Range(0, 3), _ => Assert.Equal(TimeSpan.Zero, limiter.TryTake("tok_secret")));
        var wait = limiter.TryTake("tok_secret");

        Assert.InRange(wait, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1));
        Assert.Equal(TimeSpan.Zero, limiter.TryTake("tok_other"));
    }
}
