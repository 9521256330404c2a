using PortHistory.Grains.Abstractions;

namespace PortHistory.Server.Application.Import;

/// <summary>What a generation asks of the port grains.</summary>
public interface IRegistryStaging
{
    /// <summary>Stages a port's timelines under a generation; the port drops what it staged under the aborted ones. Idempotent.</summary>
    Task StageAsync(int port, long generation, long[] abortedGenerations, byte[] timelines);

    /// <summary>Redoes an observed port's verdicts against the committed registry.</summary>
    Task RefreshVerdictsAsync(int port);
}

/// <summary>The port grains, one per port.</summary>
public sealed class GrainRegistryStaging(IGrainFactory grains) : IRegistryStaging
{
    public Task StageAsync(int port, long generation, long[] abortedGenerations, byte[] timelines) =>
        grains.GetGrain<IPortGrain>(port).StageRegistryAsync(generation, abortedGenerations, new Orleans.Concurrency.Immutable<byte[]>(timelines));

    public Task RefreshVerdictsAsync(int port) => grains.GetGrain<IPortGrain>(port).RefreshVerdictsAsync();
}
