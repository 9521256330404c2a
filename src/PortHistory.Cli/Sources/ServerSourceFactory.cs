namespace PortHistory.Cli.Sources;

/// <summary>Opens the gRPC-backed source (server mode).</summary>
public static class ServerSourceFactory
{
    public static IRegistrySource Open(string server, string? token) =>
        throw new UsageException($"server mode is not available in this build (asked for {server}); use --editions DIR");
}
