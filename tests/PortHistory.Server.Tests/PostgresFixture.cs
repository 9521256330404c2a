using PortHistory.Testing;

namespace PortHistory.Server.Tests;

/// <summary>One real PostgreSQL for a collection, and resources its tests set up once and share.</summary>
public class PostgresFixture : IAsyncLifetime
{
    private readonly SharedResources _shared = new();

    public PostgresServer Postgres { get; private set; } = null!;

    public virtual async Task InitializeAsync() => Postgres = await PostgresServer.StartAsync();

    public virtual async Task DisposeAsync()
    {
        await DisposeSharedAsync();
        await Postgres.DisposeAsync();
    }

    /// <summary>A resource set up once for the collection (shared by several test classes), disposed with it.</summary>
    public Task<T> SharedAsync<T>(string key, Func<Task<T>> create) where T : class, IAsyncDisposable => _shared.GetAsync(key, create);

    protected async Task DisposeSharedAsync() => await _shared.DisposeAsync();
}
