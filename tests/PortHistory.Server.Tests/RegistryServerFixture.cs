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
        foreach (var shared in _shared.Values) await ((IAsyncDisposable)await shared).DisposeAsync();
        await Server.DisposeAsync();
        await Postgres.DisposeAsync();
    }

    private readonly Dictionary<string, Task<object>> _shared = [];

    /// <summary>A resource set up once for the collection (a second server with a synthetic fleet, say), disposed with it.</summary>
    public async Task<T> SharedAsync<T>(string key, Func<Task<T>> create) where T : class, IAsyncDisposable
    {
        Task<object> task;
        lock (_shared)
        {
            if (!_shared.TryGetValue(key, out task!)) _shared[key] = task = Create();
        }

        return (T)await task;

        async Task<object> Create() => await create();
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
