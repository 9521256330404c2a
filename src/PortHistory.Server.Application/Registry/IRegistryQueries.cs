using PortHistory.Contracts.V1;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;

namespace PortHistory.Server.Application.Registry;

/// <summary>
/// The cross-port reads of the registry, answered from the query index. Every read runs in one snapshot, so an
/// answer never mixes two generations.
/// </summary>
public interface IRegistryQueries
{
    Task<FindServiceResponse> FindServiceAsync(string name, CancellationToken cancellationToken);

    /// <summary>The differences between two committed editions (by id, or a date meaning the edition in effect then).</summary>
    /// <exception cref="UnknownEditionException">Either edition is not committed.</exception>
    Task<DiffEditionsResult> DiffAsync(string from, string to, PortSpan? ports, CancellationToken cancellationToken);

    /// <summary>
    /// Every listed (port, transport) of a range in the edition in effect on a date (or the newest), port by port and
    /// each port's transports in order, in pages: a caller holds one page in memory, not the range. With no edition
    /// in effect, one empty page naming none.
    /// </summary>
    IAsyncEnumerable<ListPortsPage> ListPortsAsync(PortSpan range, DateOnly? asOf, AssignmentStatus status, Transport transport,
        CancellationToken cancellationToken);
}

public sealed record DiffEditionsResult(EditionRef From, EditionRef To, IReadOnlyList<EditionDiffEntry> Entries);

/// <summary>One page of a listing: the assignments of its ports.</summary>
public sealed record ListPortsPage(EditionRef? Edition, IReadOnlyList<PortAssignment> Ports);

/// <summary>A request named an edition that is not (yet) committed.</summary>
public sealed class UnknownEditionException(string field, string reference)
    : Exception($"{field}: no committed edition \"{reference}\" (an edition id, or a date yyyy-MM-dd)")
{
    public string Field { get; } = field;
}
