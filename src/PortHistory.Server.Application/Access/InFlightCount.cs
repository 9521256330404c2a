namespace PortHistory.Server.Application.Access;

/// <summary>
/// What one token has in flight (calls, or watch streams) against its limit: beyond the limit a call is refused at once,
/// never queued. Two atomic operations per call rather than a System.Threading.RateLimiting ConcurrencyLimiter, which
/// took its lock on entry and on release, allocated a lease and read the clock on every call, every call of a token
/// on the same lock: in perf profiles under h2load the gateway interceptor's handler, permit included, went from about
/// 0.44 to 0.29 µs of server CPU per GetPort (of ~7), docs/benchmarks.md.
/// </summary>
public sealed class InFlightCount(int limit)
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>A permit to dispose when the call ends; false, and nothing counted, when the limit is reached.</summary>
    public bool TryEnter(out CallPermit permit)
    {
        if (Interlocked.Increment(ref _count) <= limit)
        {
            permit = new CallPermit(this);
            return true;
        }

        Interlocked.Decrement(ref _count);
        permit = default;
        return false;
    }

    internal void Exit() => Interlocked.Decrement(ref _count);
}

/// <summary>
/// One call or stream counted in flight until disposed, once. The default permit counts nothing (a call no limit
/// applies to, such as a health probe).
/// </summary>
public readonly struct CallPermit : IDisposable
{
    private readonly InFlightCount? _count;

    internal CallPermit(InFlightCount count) => _count = count;

    public void Dispose() => _count?.Exit();
}
