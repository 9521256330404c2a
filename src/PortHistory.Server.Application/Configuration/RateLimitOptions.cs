using System.ComponentModel.DataAnnotations;

namespace PortHistory.Server.Application.Configuration;

/// <summary>What one caller may use: sightings per second (agents), enrollments (enrollment secrets), calls in flight (every token), failed authentications (every address).</summary>
public sealed class RateLimitOptions
{
    public const string Section = "PortHistory:RateLimit";

    /// <summary>Sightings per second an agent token may report, sustained.</summary>
    [Range(0.001, double.MaxValue)]
    public double SightingsPerSecond { get; set; } = 50_000;

    /// <summary>Sightings an agent may report in one burst.</summary>
    [Range(1.0, double.MaxValue)]
    public double Burst { get; set; } = 200_000;

    /// <summary>
    /// Per-host credentials one enrollment secret may have issued per minute, sustained (a fleet rolling out; agents
    /// wait as told and retry). Low by default: a leaked secret should add hosts slowly enough to be noticed.
    /// </summary>
    [Range(1, 1_000_000)]
    public int EnrollmentsPerMinute { get; set; } = 60;

    /// <summary>Enrollments one secret may make in one burst (hosts started together).</summary>
    [Range(1, 1_000_000)]
    public int EnrollmentBurst { get; set; } = 100;

    /// <summary>
    /// Lookups of tokens the silo does not know (for an attacker, failed authentications; for an honest caller, one per
    /// token every 10 minutes) one remote address may have in a burst; beyond it, its unknown tokens are refused
    /// (ResourceExhausted, with retry-after) without a database lookup.
    /// </summary>
    [Range(1, 1_000_000)]
    public int FailedAuthenticationBurst { get; set; } = 100;

    /// <summary>Such lookups one remote address is allowed again per minute, sustained.</summary>
    [Range(1, 60_000)]
    public int FailedAuthenticationsPerMinute { get; set; } = 60;

    /// <summary>Calls one token may have in flight at once, of any kind (open streams included).</summary>
    [Range(1, 1_000_000)]
    public int ConcurrentCallsPerToken { get; set; } = 256;
}
