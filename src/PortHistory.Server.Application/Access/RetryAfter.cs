using System.Globalization;
using Grpc.Core;

namespace PortHistory.Server.Application.Access;

/// <summary>A refusal that says when to try again: "retry-after-ms" (what the agent and CLI read) and "retry-after" in seconds.</summary>
public static class RetryAfter
{
    public static RpcException Refusal(StatusCode code, string detail, TimeSpan wait)
    {
        var milliseconds = Math.Max(1, Math.Ceiling(wait.TotalMilliseconds));
        return new RpcException(new Status(code, detail.Replace("{ms}", milliseconds.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)),
            new Metadata
            {
                { "retry-after-ms", milliseconds.ToString(CultureInfo.InvariantCulture) },
                { "retry-after", Math.Ceiling(milliseconds / 1000).ToString(CultureInfo.InvariantCulture) },
            });
    }
}
