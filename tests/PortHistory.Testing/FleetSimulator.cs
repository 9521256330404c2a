using PortHistory.Contracts.V1;

namespace PortHistory.Testing;

/// <summary>Builds sightings as a fleet agent would report them.</summary>
public static class FleetSimulator
{
    public static Sighting Sighting(string host, uint port, Transport transport, string process, string? executable = null,
        string localAddress = "0.0.0.0", DateTime? observedAt = null, bool privileged = true) => new()
    {
        HostRef = host,
        Port = port,
        Transport = transport,
        ProcessName = process,
        Executable = executable ?? $"/usr/sbin/{process}",
        LocalAddress = localAddress,
        ObservedAt = Timestamp.FromDateTime(observedAt ?? DateTime.UtcNow.AddSeconds(-5)),
        Pid = 1000,
        User = "root",
        AgentPrivileged = privileged,
    };

    public static SightingBatch Batch(IEnumerable<Sighting> sightings, Guid? id = null)
    {
        var batch = new SightingBatch { BatchId = (id ?? Guid.NewGuid()).ToString() };
        batch.Sightings.AddRange(sightings);
        return batch;
    }
}
