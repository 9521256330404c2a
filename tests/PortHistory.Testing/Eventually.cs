using Grpc.Core;

namespace PortHistory.Testing;

public static class Eventually
{
    /// <summary>
    /// Polls until the condition holds (servers apply durable work within their own windows); a read that finds the
    /// server Unavailable is asked again. Throws with the last value when the time is up.
    /// </summary>
    public static async Task<T> Async<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            T value;
            try
            {
                value = await read();
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
                continue;
            }

            if (done(value)) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the condition did not hold in time; last value: {value}");
            await Task.Delay(100);
        }
    }
}
