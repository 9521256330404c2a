using PortHistory.Contracts.V1;
using PortHistory.Observations;

namespace PortHistory.Grains.Abstractions;

/// <summary>
/// The operators' expectations as this silo last read them. Every change bumps <see cref="Version"/>; a port grain told
/// of a change waits until its silo has read at least that version before judging again.
/// </summary>
public interface IExpectationCatalog
{
    long Version { get; }

    /// <summary>The expectations for a (port, transport), and whether the fleet declares any at all.</summary>
    ExpectationSide For(int port, Transport transport);

    /// <summary>Reads the expectations again unless this silo already holds <paramref name="version"/> or a newer one.</summary>
    Task AtLeastAsync(long version, CancellationToken cancellationToken);
}
