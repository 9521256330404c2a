using PortHistory.Contracts.V1;

namespace PortHistory.Grains.Abstractions;

/// <summary>
/// What verdict reasons quote of a port's observed past, from the usage history: since when the process a verdict names
/// has run on the port and on how many hosts yesterday, or since when nothing has. A port grain reads it once a day.
/// </summary>
public interface IVerdictHistory
{
    /// <summary>Whether a verdict's reason quotes the past (a ghost, or a verdict that names the process it saw).</summary>
    bool Quotes(Verdict verdict);

    /// <summary>The port's past as of <paramref name="yesterday"/>; null when it cannot be read now (verdicts then go without it).</summary>
    Task<IVerdictPast?> ReadAsync(int port, DateOnly yesterday, CancellationToken cancellationToken);
}

/// <summary>One port's past, as read.</summary>
public interface IVerdictPast
{
    /// <summary>What the verdict's reason ends with ("; rpc.statd on 776/udp since 2024-03-02 (first seen), 38 hosts yesterday"), or null.</summary>
    string? SuffixFor(Verdict verdict);
}

/// <summary>No usage history (a silo without one): reasons say only what the grain knows now.</summary>
public sealed class NoVerdictHistory : IVerdictHistory
{
    public static readonly NoVerdictHistory Instance = new();

    public bool Quotes(Verdict verdict) => false;

    public Task<IVerdictPast?> ReadAsync(int port, DateOnly yesterday, CancellationToken cancellationToken) => Task.FromResult<IVerdictPast?>(null);
}
