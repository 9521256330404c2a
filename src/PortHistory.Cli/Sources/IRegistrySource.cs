using PortHistory.Registry.History;
using PortHistory.Registry.Model;

namespace PortHistory.Cli.Sources;

/// <summary>
/// Where the CLI's answers come from: edition files read on this machine, or a PortHistory server over gRPC.
/// Both answer in the Registry library's terms, so every verb renders the same way in both modes.
/// </summary>
public interface IRegistrySource : IAsyncDisposable
{
    Task<IReadOnlyList<EditionOverview>> ListEditionsAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<AssignmentTimeline>> GetTimelinesAsync(int port, TransportProtocol? transport, CancellationToken cancellationToken);

    Task<PortAnswer> GetPortAsync(int port, TransportProtocol? transport, DateOnly? asOf, CancellationToken cancellationToken);

    Task<ServiceAnswer> FindServiceAsync(string name, CancellationToken cancellationToken);

    Task<EditionDiff> DiffAsync(string from, string to, PortSpan? ports, CancellationToken cancellationToken);

    IAsyncEnumerable<AssignmentInEffect> ListPortsAsync(PortSpan range, DateOnly? asOf, RecordStatus? status, TransportProtocol? transport,
        CancellationToken cancellationToken);
}

/// <summary>
/// What held a port (per transport) in the edition in effect on the date asked about; from a server, also what fleets
/// observe there and the verdicts. <see cref="Local"/> is what local service tables say, beside the registry.
/// </summary>
public sealed record PortAnswer(int Port, PortNumberClass Class, EditionIdentity? Edition, IReadOnlyList<TransportAnswer> Transports, ObservedAnswer? Observed = null)
{
    public IReadOnlyList<LocalEntry> Local { get; init; } = [];
}

/// <summary>
/// The records one transport of the port held (empty: not listed) and the first edition of their version (<see cref="Since"/>:
/// when the record last changed, and how, in <see cref="Changes"/>); <see cref="HeldSince"/> is where the unbroken
/// holding began (see RecordVersion.HeldSince), <see cref="ConventionalSince"/> where conventional use before it did.
/// </summary>
public sealed record TransportAnswer(TransportProtocol Transport, IReadOnlyList<EditionRecord> Records, EditionIdentity? Since)
{
    public EditionIdentity? HeldSince { get; init; }

    public EditionIdentity? ConventionalSince { get; init; }

    public IReadOnlyList<RecordChange> Changes { get; init; } = [];

    /// <summary>The answer for one transport from the version in effect (null: the port was not listed yet).</summary>
    public static TransportAnswer Of(TransportProtocol transport, RecordVersion? version) => version is null
        ? new TransportAnswer(transport, [], null)
        : new TransportAnswer(transport, version.Records, version.From)
        {
            HeldSince = version.HeldSince,
            ConventionalSince = version.ConventionalSince,
            Changes = version.Changes,
        };
}

public sealed record ServiceAnswer(string Name, IReadOnlyList<ServiceTenure> Holdings, IReadOnlyList<ServiceRename> Renames);

/// <summary>A request the user got wrong (unknown edition, bad range): reported as such, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
