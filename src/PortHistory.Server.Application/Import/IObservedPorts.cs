namespace PortHistory.Server.Application.Import;

/// <summary>The ports with observations: their verdicts are redone when a new registry generation commits.</summary>
public interface IObservedPorts
{
    Task<IReadOnlyList<int>> ObservedPortsAsync(CancellationToken cancellationToken);
}

/// <summary>Observed ports read by whatever keeps the observations index.</summary>
public sealed class ObservedPorts(Func<CancellationToken, Task<IReadOnlyList<int>>> read) : IObservedPorts
{
    public Task<IReadOnlyList<int>> ObservedPortsAsync(CancellationToken cancellationToken) => read(cancellationToken);
}
