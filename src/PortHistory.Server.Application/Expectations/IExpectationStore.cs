using PortHistory.Contracts.V1;

namespace PortHistory.Server.Application.Expectations;

/// <summary>
/// The operators' expectations as stored: every write is one transaction with a version of its own, and tells every
/// silo's cache when it commits.
/// </summary>
public interface IExpectationStore
{
    /// <summary>Expectations held at most, fleet-wide.</summary>
    const int MaxExpectations = 10_000;

    /// <summary>Expectations per (port, transport) at most: a port expects a few processes, not a catalogue.</summary>
    const int MaxPerPort = 16;

    Task<(long Version, IReadOnlyList<Expectation> Expectations)> ListAsync(CancellationToken cancellationToken);

    /// <summary>Adds the expectation or updates its note. Returns it as stored, and whether it is new.</summary>
    /// <exception cref="ExpectationLimitException">A new expectation would exceed a bound.</exception>
    Task<(Expectation Stored, bool Created, ExpectationChange Change)> SetAsync(Expectation expectation, string setBy, CancellationToken cancellationToken);

    /// <summary>Removes one expectation; null when there is none.</summary>
    Task<(Expectation? Removed, ExpectationChange Change)> RemoveAsync(Expectation key, CancellationToken cancellationToken);

    /// <summary>Makes the stored set exactly <paramref name="wanted"/> (keys unique, checked by the caller) and says what changed.</summary>
    Task<(ReplaceExpectationsResponse Report, ExpectationChange Change)> ReplaceAsync(IReadOnlyList<Expectation> wanted, string setBy, bool dryRun,
        CancellationToken cancellationToken);
}

/// <summary>What one write did: the version it made, the ports whose expectations changed, and whether the set was or is empty.</summary>
public sealed record ExpectationChange(long Version, IReadOnlyList<int> Ports, bool WasEmpty, bool IsEmpty)
{
    public static ExpectationChange None(long version, bool empty) => new(version, [], empty, empty);
}

/// <summary>A write would exceed the bounds on expectations kept.</summary>
public sealed class ExpectationLimitException(string message) : Exception(message);
