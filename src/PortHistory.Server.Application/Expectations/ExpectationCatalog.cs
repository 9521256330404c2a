using System.Collections.Frozen;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Observations;
using PortHistory.Server.Application.Notifications;

namespace PortHistory.Server.Application.Expectations;

/// <summary>
/// This silo's copy of the expectations, read at start, after every change this silo makes, on every
/// "porthistory_expectations" notification, every few seconds as a fallback, and when a port grain is told of a
/// version newer than the one held.
/// </summary>
public sealed class ExpectationCatalog(IExpectationStore store) : IExpectationCatalog, INotificationHandler
{
    private volatile Snapshot _current = new(-1, FrozenDictionary<(int, Transport), ExpectationRule[]>.Empty);
    private readonly SemaphoreSlim _refreshing = new(1, 1);

    string INotificationHandler.Channel => NotificationChannels.Expectations;

    bool INotificationHandler.RefreshWithoutNotice => true;

    Task INotificationHandler.OnChangedAsync(CancellationToken cancellationToken) => RefreshAsync(cancellationToken);

    public long Version => _current.Version;

    public ExpectationSide For(int port, Transport transport)
    {
        var current = _current;
        if (current.ByPort.Count == 0) return ExpectationSide.None;
        return new ExpectationSide(current.ByPort.TryGetValue((port, transport), out var rules) ? rules : [], FleetHasExpectations: true);
    }

    public async Task AtLeastAsync(long version, CancellationToken cancellationToken)
    {
        if (_current.Version >= version) return;
        await RefreshAsync(cancellationToken);
    }

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refreshing.WaitAsync(cancellationToken);
        try
        {
            var (version, all) = await store.ListAsync(cancellationToken);
            if (version <= _current.Version) return;
            var byPort = all.GroupBy(e => ((int)e.Port, e.Transport)).ToFrozenDictionary(g => g.Key, g => g.Select(Rule).ToArray());
            _current = new Snapshot(version, byPort);
        }
        finally
        {
            _refreshing.Release();
        }
    }

    /// <summary>An expectation as verdicts cite it.</summary>
    public static ExpectationRule Rule(Expectation e) =>
        new($"{e.Port}/{e.Transport.ToString().ToLowerInvariant()}", e.Process, e.HostGroup.Length == 0 ? null : e.HostGroup, e.SetBy,
            e.SetAt?.ToDateTime() ?? DateTime.UnixEpoch, e.Note.Length == 0 ? null : e.Note);

    private sealed record Snapshot(long Version, FrozenDictionary<(int, Transport), ExpectationRule[]> ByPort);
}
