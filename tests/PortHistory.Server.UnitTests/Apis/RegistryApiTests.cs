using System.Runtime.CompilerServices;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Ports;
using PortHistory.Registry.Model;
using PortHistory.Server.Apis;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Import;
using PortHistory.Server.Application.Registry;
using PortHistory.Server.Application.Telemetry;
using PortHistory.Server.Application.Tests.Import;
using PortHistory.Server.Persistence.Registry;
using PortHistory.Server.UnitTests.Support;

namespace PortHistory.Server.UnitTests.Apis;

public sealed class RegistryApiTests
{
    private static readonly EditionRef Edition = new() { Id = "iana-2020-01-01" };

    [Fact]
    public async Task ImportEdition_refuses_a_stream_without_a_header_and_stores_nothing()
    {
        var editions = new FakeEditionStore();
        var intake = new UploadIntake(editions, new ParsedEditions(), NullLogger<UploadIntake>.Instance);
        var import = new EditionImport(intake, editions, new ImportProgressHub(new PortHistoryMetrics()), new ImportDirectory(Options.Create(new ImportOptions())),
            NullLogger<EditionImport>.Instance);
        var api = new RegistryAdminApi(import, editions, new FakeImporter(editions).Rebuild, Options.Create(new ImportOptions()));
        var chunkFirst = new ImportEditionRequest { Chunk = Google.Protobuf.ByteString.CopyFromUtf8("http,80") };

        var empty = await Assert.ThrowsAsync<RpcException>(() => api.ImportEdition(new Requests<ImportEditionRequest>(), new Responses<ImportEditionProgress>(),
            new TestServerCallContext()));
        var headless = await Assert.ThrowsAsync<RpcException>(() => api.ImportEdition(new Requests<ImportEditionRequest>(chunkFirst),
            new Responses<ImportEditionProgress>(), new TestServerCallContext()));

        Assert.Equal((StatusCode.InvalidArgument, "header: the request stream is empty; send the header first"), (empty.StatusCode, empty.Status.Detail));
        Assert.Equal((StatusCode.InvalidArgument, "header: the first message must be the header"), (headless.StatusCode, headless.Status.Detail));
        Assert.Empty(editions.Editions);
        Assert.False(intake.IsReceiving);
    }

    [Fact]
    public async Task ExportEdition_sends_the_summary_then_the_original_bytes_in_order()
    {
        var editions = new FakeEditionStore();
        var importer = new FakeImporter(editions);
        var rows = Enumerable.Range(1, 20_000).Select(p => ($"svc{p}", p, "a description long enough to need several messages")).ToArray();
        await importer.ImportAsync("large", new DateOnly(2020, 1, 1), rows);
        var api = new RegistryAdminApi(
            new EditionImport(new UploadIntake(editions, new ParsedEditions(), NullLogger<UploadIntake>.Instance), editions, new ImportProgressHub(new PortHistoryMetrics()),
                new ImportDirectory(Options.Create(new ImportOptions())), NullLogger<EditionImport>.Instance),
            editions, importer.Rebuild, Options.Create(new ImportOptions()));
        var responses = new Responses<ExportEditionChunk>();

        await api.ExportEdition(new ExportEditionRequest { EditionId = "large" }, responses, new TestServerCallContext());

        Assert.Equal("large", responses.Written[0].Edition.Id);
        Assert.True(responses.Written.Count > 2);
        Assert.Equal(TestEditions.Csv(rows), responses.Written.Skip(1).SelectMany(c => c.Data.ToByteArray()).ToArray());
        var unknown = await Assert.ThrowsAsync<RpcException>(() => api.ExportEdition(new ExportEditionRequest { EditionId = "nope" }, responses, new TestServerCallContext()));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task DiffEditions_with_an_edition_not_committed_is_invalid_argument_naming_the_field()
    {
        var api = RegistryApi(new FakeQueries { Diff = (from, _) => throw new UnknownEditionException("from_edition", from) });
        var context = new TestServerCallContext();

        var error = await Assert.ThrowsAsync<UnknownEditionException>(() => api.DiffEditions(
            new DiffEditionsRequest { FromEdition = "iana-1999", ToEdition = "2020-01-01" }, new Responses<DiffEditionsResponse>(), context));
        var status = new RpcErrorMapping(NullLogger<RpcErrorMapping>.Instance).Map(error, context).Status;

        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.StartsWith("from_edition: no committed edition \"iana-1999\"", status.Detail);
    }

    [Fact]
    public async Task FindService_validates_the_name_before_asking_the_index()
    {
        var queries = new FakeQueries();
        var api = RegistryApi(queries);

        var error = await Assert.ThrowsAsync<RpcException>(() => api.FindService(new FindServiceRequest { Name = "  " }, new TestServerCallContext()));
        var found = await api.FindService(new FindServiceRequest { Name = " http " }, new TestServerCallContext());

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("name: ", error.Status.Detail);
        Assert.Equal(["http"], queries.ServicesAsked);
        Assert.Equal("http", found.Name);
    }

    [Fact]
    public async Task ListPorts_sends_batches_of_512_across_pages_and_an_empty_listing_as_one_answer_naming_the_edition()
    {
        static PortAssignment At(int port) => new() { Port = (uint)port, Transport = Transport.Tcp };
        var pages = new[] { new ListPortsPage(Edition, [.. Enumerable.Range(0, 300).Select(At)]), new ListPortsPage(Edition, [.. Enumerable.Range(300, 300).Select(At)]) };
        var responses = new Responses<ListPortsResponse>();

        await RegistryApi(new FakeQueries { Pages = pages }).ListPorts(new ListPortsRequest(), responses, new TestServerCallContext());

        Assert.Equal([512, 88], responses.Written.Select(r => r.Ports.Count));
        Assert.Equal(Enumerable.Range(0, 600).Select(p => (uint)p), responses.Written.SelectMany(r => r.Ports).Select(p => p.Port));
        Assert.All(responses.Written, r => Assert.Equal(Edition, r.Edition));

        var empty = new Responses<ListPortsResponse>();
        await RegistryApi(new FakeQueries { Pages = [new ListPortsPage(Edition, [])] }).ListPorts(new ListPortsRequest(), empty, new TestServerCallContext());
        Assert.Equal(Edition, Assert.Single(empty.Written).Edition);
    }

    [Fact]
    public void A_listing_goes_port_by_port_each_port_s_transports_in_order_from_segments_reaching_beyond_the_window()
    {
        var version = new TimelineVersion { Records = { new RegistryRecord { ServiceName = "x" } } };
        ListedSegment[] segments =
        [
            new(Transport.Udp, 0, 11, version),
            new(Transport.Tcp, 5, 10, version),
            new(Transport.Tcp, 12, 20, version),
        ];

        var listed = PortListing.Merge(new PortSpan(9, 12), segments).Select(a => (a.Port, a.Transport)).ToList();

        Assert.Equal([(9u, Transport.Tcp), (9u, Transport.Udp), (10u, Transport.Tcp), (10u, Transport.Udp), (11u, Transport.Udp), (12u, Transport.Tcp)], listed);
    }

    private static PortRegistryApi RegistryApi(IRegistryQueries queries)
    {
        var observations = new PortHistory.Server.Application.Sightings.ObservationContext(
            Options.Create(new PortHistory.Observations.VerdictOptions()), Options.Create(new ObservationOptions()));
        return new(null!, queries, new FakeEditionStore(), new PortAnswerBoard(observations), new NoCatalog(), Options.Create(new QueryOptions()), new PortHistoryMetrics());
    }

    private sealed class FakeQueries : IRegistryQueries
    {
        public Func<string, string, DiffEditionsResult> Diff { get; init; } = (_, _) => throw new NotSupportedException();

        public IReadOnlyList<ListPortsPage> Pages { get; init; } = [];

        public List<string> ServicesAsked { get; } = [];

        public Task<FindServiceResponse> FindServiceAsync(string name, CancellationToken cancellationToken)
        {
            ServicesAsked.Add(name);
            return Task.FromResult(new FindServiceResponse { Name = name });
        }

        public Task<DiffEditionsResult> DiffAsync(string from, string to, PortSpan? ports, CancellationToken cancellationToken) => Task.FromResult(Diff(from, to));

        public async IAsyncEnumerable<ListPortsPage> ListPortsAsync(PortSpan range, DateOnly? asOf, AssignmentStatus status, Transport transport,
            [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            foreach (var page in Pages) yield return page;
            await Task.CompletedTask;
        }
    }

    private sealed class NoCatalog : IEditionCatalog
    {
        public CatalogSnapshot Current => CatalogSnapshot.Empty;

        public bool IsCommitted(long generation) => false;

        public Task AtLeastAsync(long generation, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
