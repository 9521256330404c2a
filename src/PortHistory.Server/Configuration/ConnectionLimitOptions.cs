using System.ComponentModel.DataAnnotations;

namespace PortHistory.Server.Configuration;

/// <summary>Connections one client may hold open (section <c>PortHistory:Connections</c>).</summary>
public sealed class ConnectionLimitOptions
{
    public const string Section = "PortHistory:Connections";

    /// <summary>
    /// Connections one remote address may have open at once, over every endpoint; one more is closed at once. HTTP/2
    /// multiplexes every call of a client over one connection, so an honest client needs a handful. Behind a proxy every
    /// client has the proxy's address: raise it, or 0 for no limit.
    /// </summary>
    [Range(0, 1_000_000)]
    public int PerAddress { get; set; } = 128;
}
