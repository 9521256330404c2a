using Grpc.Net.Client;
using PortHistory.Contracts.V1;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>
/// A server of its own for sightings (its answers change as fleets report), on the collection's PostgreSQL, with the
/// newest registry edition imported (its database copied from one where that was done once), and tokens for each role.
/// </summary>
public sealed class SightingsServer : IAsyncDisposable
{
    private SightingsServer(ServerProcess server) => Server = server;

    public ServerProcess Server { get; }

    public GrpcChannel Admin => Server.Channel;

    public string AgentToken { get; private set; } = "";

    public string ReaderToken { get; private set; } = "";

    public GrpcChannel Agent { get; private set; } = null!;

    public GrpcChannel Reader { get; private set; } = null!;

    public static async Task<SightingsServer> StartAsync(PostgresServer postgres, string database, IReadOnlyDictionary<string, string>? settings = null)
    {
        await CreateDatabaseAsync(postgres, database);
        // With a token file of its own, the server issues a new admin token into it.
        var server = new SightingsServer(new ServerProcess(postgres.ConnectionString(database), settings));
        await server.Server.StartAsync();
        var access = new AccessAdmin.AccessAdminClient(server.Admin);
        server.AgentToken = (await access.IssueTokenAsync(new IssueTokenRequest { Name = "test agent", Role = Role.Agent })).Token;
        server.ReaderToken = (await access.IssueTokenAsync(new IssueTokenRequest { Name = "test reader", Role = Role.Reader })).Token;
        server.Agent = server.Server.ChannelWith(() => server.AgentToken);
        server.Reader = server.Server.ChannelWith(() => server.ReaderToken);
        return server;
    }

    /// <summary>A database of its own, copied from one where the newest edition was imported once per PostgreSQL.</summary>
    public static Task CreateDatabaseAsync(PostgresServer postgres, string database) =>
        postgres.CreateDatabaseAsync(database, "newest-edition", ImportNewestEditionAsync);

    /// <summary>The database every sightings server starts from: migrated, with the newest edition imported.</summary>
    private static async Task ImportNewestEditionAsync(string connectionString)
    {
        await using var server = new ServerProcess(connectionString);
        await server.StartAsync();
        await EditionUpload.ImportAsync(server.Channel, RegistryData.PathOf("service-names-port-numbers_2026-08-17.xml"));
        // Stopped as a service manager stops it: every connection closed, as copying the database requires.
        await server.StopAsync();
    }

    /// <summary>Polls (the grains apply durable sightings within the dispatch window) until the condition holds.</summary>
    public static Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan? timeout = null) => Eventually.Async(read, done, timeout);

    public async ValueTask DisposeAsync()
    {
        Agent?.Dispose();
        Reader?.Dispose();
        await Server.DisposeAsync();
    }
}
