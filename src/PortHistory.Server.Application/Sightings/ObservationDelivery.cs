using PortHistory.Grains.Abstractions;

namespace PortHistory.Server.Application.Sightings;

/// <summary>Hands one port its deltas (one per journal writer) in one call.</summary>
public interface IObservationDelivery
{
    Task DeliverAsync(int port, ObservationDelta[] deltas);
}

/// <summary>Delivery to the port's grain.</summary>
public sealed class PortGrainDelivery(KeyedGrains grains) : IObservationDelivery
{
    public Task DeliverAsync(int port, ObservationDelta[] deltas) =>
        grains.Port(port).ObserveAsync(new Orleans.Concurrency.Immutable<ObservationDelta[]>(deltas));
}
