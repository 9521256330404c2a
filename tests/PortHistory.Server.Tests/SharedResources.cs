namespace PortHistory.Server.Tests;

/// <summary>Resources set up once, on first use by key, and disposed together.</summary>
public sealed class SharedResources : IAsyncDisposable
{
    private readonly Dictionary<string, Task<object>> _shared = [];

    public async Task<T> GetAsync<T>(string key, Func<Task<T>> create) where T : class, IAsyncDisposable
    {
        Task<object> task;
        lock (_shared)
        {
            if (!_shared.TryGetValue(key, out task!)) _shared[key] = task = Create();
        }

        return (T)await task;

        async Task<object> Create() => await create();
    }

    public async ValueTask DisposeAsync()
    {
        List<Task<object>> shared;
        lock (_shared)
        {
            shared = [.. _shared.Values];
            _shared.Clear();
        }

        foreach (var resource in shared) await ((IAsyncDisposable)await resource).DisposeAsync();
    }
}

/// <summary>
/// Resources the tests of one class share (a server with a synthetic fleet, say), disposed once the class's last test
/// has run: a server left idle until its collection ends would take CPU from every test after it.
/// </summary>
public sealed class ClassResources : IAsyncLifetime
{
    private readonly SharedResources _shared = new();

    public Task<T> SharedAsync<T>(string key, Func<Task<T>> create) where T : class, IAsyncDisposable => _shared.GetAsync(key, create);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _shared.DisposeAsync();
}
