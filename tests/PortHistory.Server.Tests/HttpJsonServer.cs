using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>
/// A server of its own, with four editions imported (RFC 1060, RFC 1340, and the System Ports of the 2024-04-30 and
/// 2026-08-17 IANA XML), for the HTTP/JSON endpoint and the commands the documentation shows: they ask about System Ports
/// and the dynamic range, and the whole XML files would stage 49,152 ports.
/// </summary>
public sealed class HttpJsonServer : IAsyncLifetime
{
    public static readonly string[] Editions =
        ["rfc1060.txt", "rfc1340.txt", "service-names-port-numbers_2024-04-30.xml", "service-names-port-numbers_2026-08-17.xml"];

    private readonly DirectoryInfo _trimmed = Directory.CreateTempSubdirectory("porthistory-system-ports-");

    public PostgresServer Postgres { get; private set; } = null!;

    public ServerProcess Server { get; private set; } = null!;

    public string ReaderToken { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Postgres = await PostgresServer.StartAsync();
        // Hosts reported by the collection's tests stay online for its whole life: a host going stale changes the fleet's
        // counts, which every published port answer states, and PortJsonAnswerTests counts the answers that took a grain call.
        Server = new ServerProcess(Postgres.ConnectionString("httpjson"), new Dictionary<string, string> { ["PortHistory__Hosts__HeartbeatPeriod"] = "01:00:00" });
        await Server.StartAsync();
        await EditionUpload.ImportAllAsync(Server.Channel, Editions.Select(e => RegistryData.SystemPortsPath(e, _trimmed.FullName)));
        var access = new AccessAdmin.AccessAdminClient(Server.Channel);
        ReaderToken = (await access.IssueTokenAsync(new IssueTokenRequest { Name = "http reader", Role = Role.Reader })).Token;
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await Postgres.DisposeAsync();
        _trimmed.Delete(recursive: true);
    }
}

/// <summary>
/// The HTTP/JSON tests and the documented commands share one server: the commands are cheap, a server is not. Its
/// tests run one after another, beside the other collections.
/// </summary>
[CollectionDefinition(Name)]
public sealed class HttpJsonCollection : ICollectionFixture<HttpJsonServer>
{
    public const string Name = "http-json";
}
