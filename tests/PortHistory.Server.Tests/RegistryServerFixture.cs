using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Registry.History;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>
/// One real PostgreSQL and one real server process for the collection, with all sixteen editions imported through
/// the RegistryAdmin gRPC API. Tests of the collection run one after another.
/// </summary>
public sealed class RegistryServerFixture : PostgresFixture
{
    private readonly Lazy<RegistryHistory> _offline = new(() => RegistryHistory.Build(RegistryData.AllEditions()));

    public ServerProcess Server { get; private set; } = null!;

    /// <summary>The same editions' history built in process by the Registry library, to compare the server with.</summary>
    public RegistryHistory Offline => _offline.Value;

    public PortRegistry.PortRegistryClient Registry => new(Server.Channel);

    public IReadOnlyList<ImportEditionProgress>[] Imports { get; private set; } = [];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Server = new ServerProcess(Postgres.ConnectionString("registry"));
        await Server.StartAsync();
        try
        {
            Imports = await EditionUpload.ImportAllAsync(Server.Channel, RegistryData.EditionFiles.Select(RegistryData.PathOf));
        }
        catch (RpcException e)
        {
            throw new InvalidOperationException($"importing the editions failed: {e.Status}; the server's log:\n{Server.Log}", e);
        }
    }

    public override async Task DisposeAsync()
    {
        await DisposeSharedAsync();
        await Server.DisposeAsync();
        await base.DisposeAsync();
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

/// <summary>
/// Tests that read the registry server's sixteen editions, and some that start servers of their own; they run beside
/// <see cref="OwnServerCollection"/>, the two kept about equally long.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<RegistryServerFixture>
{
    public const string Name = "server";
}

/// <summary>
/// Tests that start (kill, restart, cluster) servers of their own, each on databases of its own in one PostgreSQL. They
/// run one after another, beside the <see cref="ServerCollection"/>: much of either's time is spent waiting for
/// processes to start, die and come back, which leaves a core to the other.
/// </summary>
[CollectionDefinition(Name)]
public sealed class OwnServerCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "own-servers";
}
