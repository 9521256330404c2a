using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>One real PostgreSQL for a collection, and resources its tests set up once and share.</summary>
public class PostgresFixture : IAsyncLifetime
{
    private readonly Dictionary<string, Task<object>> _shared = [];

    public PostgresServer Postgres { get; private set; } = null!;

    public virtual async Task InitializeAsync() => Postgres = await PostgresServer.StartAsync();

    public virtual async Task DisposeAsync()
    {
        await DisposeSharedAsync();
        await Postgres.DisposeAsync();
    }

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

    protected async Task DisposeSharedAsync()
    {
        foreach (var shared in _shared.Values) await ((IAsyncDisposable)await shared).DisposeAsync();
        _shared.Clear();
    }
}
