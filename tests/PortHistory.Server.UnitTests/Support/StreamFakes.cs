using Grpc.Core;

namespace PortHistory.Server.UnitTests.Support;

/// <summary>A client stream of the given messages.</summary>
internal sealed class Requests<T>(params T[] messages) : IAsyncStreamReader<T>
{
    private int _next = -1;

    public T Current => messages[_next];

    public Task<bool> MoveNext(CancellationToken cancellationToken) => Task.FromResult(++_next < messages.Length);
}

/// <summary>A server stream that keeps what is written.</summary>
internal sealed class Responses<T> : IServerStreamWriter<T>
{
    public List<T> Written { get; } = [];

    public WriteOptions? WriteOptions { get; set; }

    public Task WriteAsync(T message) => WriteAsync(message, CancellationToken.None);

    public Task WriteAsync(T message, CancellationToken cancellationToken)
    {
        Written.Add(message);
        return Task.CompletedTask;
    }
}
