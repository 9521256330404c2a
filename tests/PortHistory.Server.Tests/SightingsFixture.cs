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
    /// <summary>
    /// The ports the sightings tests report on lie in these windows: of the newest edition, the records whose range
    /// touches one are imported (with those without a number), so each of those ports holds what the whole file says
    /// of it. Ports from 49152 are judged by the dynamic rule whatever the registry says. The whole file would stage
    /// the 49,152 ports its ranges cover; this about 10,000. A test reporting on a port outside them sees nothing assigned.
    /// </summary>
    public static readonly (int First, int Last)[] RegistryWindows = [(0, 6500), (30000, 32100), (40000, 41100)];

    private const string NewestEdition = "service-names-port-numbers_2026-08-17.xml";

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

    /// <summary>Imports the newest edition as the sightings servers hold it (its records in <see cref="RegistryWindows"/>).</summary>
    public static async Task<IReadOnlyList<ImportEditionProgress>> ImportNewestEditionAsync(GrpcChannel channel)
    {
        var directory = Directory.CreateTempSubdirectory("porthistory-sightings-edition-");
        try
        {
            var path = Path.Combine(directory.FullName, NewestEdition);
            await File.WriteAllBytesAsync(path,
                RegistryData.PortsOf(NewestEdition, (first, last) => RegistryWindows.Any(w => first <= w.Last && last >= w.First)));
            return await EditionUpload.ImportAsync(channel, path);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>The database every sightings server starts from: migrated, with the newest edition imported.</summary>
    private static async Task ImportNewestEditionAsync(string connectionString)
    {
        await using var server = new ServerProcess(connectionString);
        await server.StartAsync();
        await ImportNewestEditionAsync(server.Channel);
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
