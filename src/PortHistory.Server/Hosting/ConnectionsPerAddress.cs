using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Connections;

namespace PortHistory.Server.Hosting;

/// <summary>
/// Kestrel connection middleware that closes a connection at once when its remote address already has the limit open:
/// one client cannot take every connection (and the memory each holds) from everyone else.
/// </summary>
public sealed class ConnectionsPerAddress(int limit, ILogger logger)
{
    private readonly ConcurrentDictionary<IPAddress, int> _open = new();

    public ConnectionDelegate Limit(ConnectionDelegate next) => async connection =>
    {
        if (limit <= 0 || (connection.RemoteEndPoint as IPEndPoint)?.Address is not { } address)
        {
            await next(connection);
            return;
        }

        var open = _open.AddOrUpdate(address, 1, static (_, count) => count + 1);
        try
        {
            if (open > limit)
            {
                if (open == limit + 1) logger.LogWarning("{Address} has {Limit} connections open; more are closed (PortHistory:Connections:PerAddress)", address, limit);
                return;
            }

            await next(connection);
        }
        finally
        {
            if (_open.AddOrUpdate(address, 0, static (_, count) => count - 1) == 0) _open.TryRemove(KeyValuePair.Create(address, 0));
        }
    };
}
