using PortHistory.Contracts.V1;

namespace PortHistory.Grains.Abstractions;

/// <summary>
/// The committed editions as this silo last saw them: their order (rank) in the current history generation and
/// which generations are committed. A port grain shows a staged timeline only once its generation is committed.
/// </summary>
public interface IEditionCatalog
{
    CatalogSnapshot Current { get; }

    bool IsCommitted(long generation);

    /// <summary>
    /// Returns once this silo's view holds <paramref name="generation"/> (read again if it does not yet): the silo that
    /// committed it tells the others by a notification that may not have arrived.
    /// </summary>
    Task AtLeastAsync(long generation, CancellationToken cancellationToken);
}
