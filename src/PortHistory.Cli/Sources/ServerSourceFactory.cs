namespace PortHistory.Cli.Sources;

/// <summary>Opens the gRPC-backed source (server mode).</summary>
public static class ServerSourceFactory
{
    public static IRegistrySource Open(string server, string? token) => new ServerRegistrySource(server, token);
}
