using System.Collections.Concurrent;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Sightings;

namespace PortHistory.Server.Application.Tests.Sightings;

/// <summary>Records every delivery; the ports in <see cref="Failing"/> fail (after being recorded).</summary>
internal sealed class FakeObservationDelivery : IObservationDelivery
{
    public ConcurrentQueue<(int Port, ObservationDelta[] Deltas)> Calls { get; } = new();

    public ConcurrentDictionary<int, bool> Failing { get; } = new();

    /// <summary>Completes when the first delivery has been recorded.</summary>
    public Task FirstDelivery => _first.Task;

    private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Runs during each delivery (before it fails or succeeds), e.g. to enqueue what arrives meanwhile.</summary>
    public Action<int>? During { get; set; }

    public Task DeliverAsync(int port, ObservationDelta[] deltas)
    {
        Calls.Enqueue((port, deltas));
        _first.TrySetResult();
        During?.Invoke(port);
        return Failing.ContainsKey(port) ? Task.FromException(new TimeoutException($"port {port} did not answer")) : Task.CompletedTask;
    }

    /// <summary>The calls so far, cleared.</summary>
    public List<(int Port, ObservationDelta[] Deltas)> Take()
    {
        var calls = new List<(int, ObservationDelta[])>();
        while (Calls.TryDequeue(out var call)) calls.Add(call);
        return [.. calls.OrderBy(c => c.Item1)];
    }
}
