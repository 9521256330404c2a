using PortHistory.Contracts.V1;

namespace PortHistory.Grains.Abstractions;

/// <summary>
/// Where port grains raise watch events. When the call completes the events are stored for good; an event whose
/// <see cref="WatchEvent.EventId"/> is stored already is not stored again, so raising is safe to repeat.
/// </summary>
public interface IWatchEventSink
{
    Task RaiseAsync(IReadOnlyList<WatchEvent> events, CancellationToken cancellationToken);
}
