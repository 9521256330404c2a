using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Registry.History;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>
/// One real PostgreSQL and one real server process for the collection, with all sixteen editions imported through
/// the RegistryAdmin gRPC API. Tests of the collection run one after another (two cores).
/// </summary>
public sealed class RegistryServerFixture : IAsyncLifetime
{
    private readonly Lazy<RegistryHistory> _offline = new(() => RegistryHistory.Build(RegistryData.AllEditions()));

    public PostgresServer Postgres { get; private set; } = null!;

    public ServerProcess Server { get; private set; } = null!;

    /// <summary>The same editions' history built in process by the Registry library, to compare the server with.</summary>
    public RegistryHistory Offline => _offline.Value;

    public PortRegistry.PortRegistryClient Registry => new(Server.Channel);

    public IReadOnlyList<ImportEditionProgress>[] Imports { get; private set; } = [];

    public async Task InitializeAsync()
    {
        Postgres = await PostgresServer.StartAsync();
        Server = new ServerProcess(Postgres.ConnectionString("registry"));
        await Server.StartAsync();
        Imports = await EditionUpload.ImportAllAsync(Server.Channel, RegistryData.EditionFiles.Select(RegistryData.PathOf));
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await Postgres.DisposeAsync();
    }

    public static async Task<RpcException> FailsAsync(Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (RpcException e)
        {
            return e;
        }

        throw new Xunit.Sdk.XunitException("expected the call to fail with an RpcException");
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<RegistryServerFixture>
{
    public const string Name = "server";
}
