using System.Runtime.CompilerServices;
using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;
using PortHistory.Registry.Protobuf;

namespace PortHistory.Cli.Sources;

/// <summary>
/// Registry answers from a PortHistory server over gRPC, turned back into the Registry library's terms for rendering;
/// what fleets observe and the administration verbs go through <see cref="Observations"/> and <see cref="Administration"/>.
/// </summary>
public sealed class ServerRegistrySource : IRegistrySource
{
    private readonly ServerConnection _server;

    public ServerRegistrySource(string address, string? token)
    {
        _server = new ServerConnection(address, token);
        Observations = new ServerObservations(_server);
        Hosts = new ServerHosts(_server);
        Usage = new ServerUsage(_server);
        Administration = new ServerAdministration(_server);
    }

    /// <summary>The channel, clients and headers, for the server's own verbs (editions' provenance, export, rebuild).</summary>
    public ServerConnection Connection => _server;

    public ServerObservations Observations { get; }

    public ServerHosts Hosts { get; }

    public ServerUsage Usage { get; }

    public ServerAdministration Administration { get; }

    public Task<IReadOnlyList<EditionOverview>> ListEditionsAsync(CancellationToken cancellationToken) => ServerConnection.Call<IReadOnlyList<EditionOverview>>(async () =>
    {
        var response = await _server.Registry.ListEditionsAsync(new ListEditionsRequest(), _server.Headers, cancellationToken: cancellationToken);
        return [.. response.Editions.Select(e => e.ToDomain())];
    });

    public Task<IReadOnlyList<AssignmentTimeline>> GetTimelinesAsync(int port, TransportProtocol? transport, CancellationToken cancellationToken) =>
        ServerConnection.Call<IReadOnlyList<AssignmentTimeline>>(async () =>
        {
            var response = await _server.Registry.GetTimelineAsync(
                new GetTimelineRequest { Port = (uint)port, Transport = (transport ?? TransportProtocol.Unspecified).ToProto() }, _server.Headers,
                cancellationToken: cancellationToken);
            return [.. response.Timelines.Select(t => t.ToDomain())];
        });

    public Task<PortAnswer> GetPortAsync(int port, TransportProtocol? transport, DateOnly? asOf, CancellationToken cancellationToken) => ServerConnection.Call(async () =>
    {
        var request = new GetPortRequest { Port = (uint)port, Transport = (transport ?? TransportProtocol.Unspecified).ToProto(), AsOf = asOf?.ToProto() };
        var response = await _server.Registry.GetPortAsync(request, _server.Headers, cancellationToken: cancellationToken);
        return new PortAnswer(port, response.PortClass.ToDomain(), response.Edition?.ToDomain(),
            [.. response.Transports.Select(ToAnswer)],
            ObservationViews.ToView(port, response.Observed, response.Verdicts)) { Local = [.. response.Local.Select(l => l.ToDomain())] };
    });

    private static TransportAnswer ToAnswer(TransportAssignment assignment) =>
        new(assignment.Transport.ToDomain(), [.. assignment.Records.Select(r => r.ToDomain())], assignment.Since?.ToDomain())
        {
            HeldSince = assignment.HeldSince?.ToDomain(),
            ConventionalSince = assignment.ConventionalSince?.ToDomain(),
            Changes = [.. assignment.Changes.Select(c => c.ToDomain())],
        };

    public Task<ServiceAnswer> FindServiceAsync(string name, CancellationToken cancellationToken) => ServerConnection.Call(async () =>
    {
        var response = await _server.Registry.FindServiceAsync(new FindServiceRequest { Name = name }, _server.Headers, cancellationToken: cancellationToken);
        return new ServiceAnswer(name, [.. response.Holdings.Select(h => h.ToDomain())], [.. response.Renames.Select(r => r.ToDomain())]);
    });

    public Task<EditionDiff> DiffAsync(string from, string to, PortSpan? ports, CancellationToken cancellationToken) => ServerConnection.Call(async () =>
    {
        using var call = _server.Registry.DiffEditions(new DiffEditionsRequest { FromEdition = from, ToEdition = to, Ports = ports?.ToProto() }, _server.Headers,
            cancellationToken: cancellationToken);
        EditionIdentity? fromRef = null, toRef = null;
        var entries = new List<EditionDiffEntry>();
        await foreach (var response in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            fromRef ??= response.From.ToDomain();
            toRef ??= response.To.ToDomain();
            entries.AddRange(response.Entries.Select(e => e.ToDomain()));
        }

        return new EditionDiff(fromRef!, toRef!, [.. entries]);
    });

    public async IAsyncEnumerable<AssignmentInEffect> ListPortsAsync(PortSpan range, DateOnly? asOf, RecordStatus? status, TransportProtocol? transport,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListPortsRequest
        {
            Range = range.ToProto(),
            AsOf = asOf?.ToProto(),
            Status = (status ?? 0).ToProto(),
            Transport = (transport ?? TransportProtocol.Unspecified).ToProto(),
        };
        using var call = _server.Registry.ListPorts(request, _server.Headers, cancellationToken: cancellationToken);
        var stream = call.ResponseStream;
        while (await ServerConnection.Call(() => stream.MoveNext(cancellationToken)))
        {
            var response = stream.Current;
            if (response.Edition is null) continue;
            var edition = response.Edition.ToDomain();
            foreach (var port in response.Ports)
            {
                yield return new AssignmentInEffect((int)port.Port, port.Transport.ToDomain(), edition, [.. port.Records.Select(r => r.ToDomain())],
                    port.Since.ToDomain());
            }
        }
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
