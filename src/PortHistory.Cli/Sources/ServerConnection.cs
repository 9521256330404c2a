using Grpc.Core;
using Grpc.Net.Client;
using PortHistory.Contracts.V1;

namespace PortHistory.Cli.Sources;

/// <summary>
/// One PortHistory server: the gRPC channel, the bearer token sent with every call, a client per service, and gRPC
/// failures turned into messages for the user.
/// </summary>
public sealed class ServerConnection : IAsyncDisposable
{
    private readonly GrpcChannel _channel;

    public ServerConnection(string address, string? token)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new UsageException($"--server must be an http:// or https:// URL, got \"{address}\"");
        }

        _channel = GrpcChannel.ForAddress(uri, new GrpcChannelOptions { MaxReceiveMessageSize = 64 * 1024 * 1024, ServiceConfig = ReadRetries });
        if (!string.IsNullOrWhiteSpace(token)) Headers.Add("authorization", $"Bearer {token}");
        Registry = new PortRegistry.PortRegistryClient(_channel);
        Admin = new RegistryAdmin.RegistryAdminClient(_channel);
        Observations = new Observations.ObservationsClient(_channel);
        Access = new AccessAdmin.AccessAdminClient(_channel);
        Expectations = new ExpectationAdmin.ExpectationAdminClient(_channel);
        Hosts = new Contracts.V1.Hosts.HostsClient(_channel);
        Usage = new Contracts.V1.Usage.UsageClient(_channel);
    }

    /// <summary>
    /// Reads are asked again when the server is briefly unavailable (a silo restarting, PostgreSQL failing over). Only
    /// the reads: an import, a usage load or a token issued twice would not be harmless.
    /// </summary>
    private static readonly Grpc.Net.Client.Configuration.ServiceConfig ReadRetries = new()
    {
        MethodConfigs =
        {
            new Grpc.Net.Client.Configuration.MethodConfig
            {
                Names =
                {
                    new Grpc.Net.Client.Configuration.MethodName { Service = PortRegistry.Descriptor.FullName },
                    new Grpc.Net.Client.Configuration.MethodName { Service = Contracts.V1.Observations.Descriptor.FullName },
                    new Grpc.Net.Client.Configuration.MethodName { Service = Contracts.V1.Usage.Descriptor.FullName, Method = "GetUsageHistory" },
                },
                RetryPolicy = new Grpc.Net.Client.Configuration.RetryPolicy
                {
                    MaxAttempts = 5,
                    InitialBackoff = TimeSpan.FromMilliseconds(500),
                    MaxBackoff = TimeSpan.FromSeconds(5),
                    BackoffMultiplier = 2,
                    RetryableStatusCodes = { StatusCode.Unavailable },
                },
            },
        },
    };

    public PortRegistry.PortRegistryClient Registry { get; }

    public RegistryAdmin.RegistryAdminClient Admin { get; }

    public Observations.ObservationsClient Observations { get; }

    public AccessAdmin.AccessAdminClient Access { get; }

    public ExpectationAdmin.ExpectationAdminClient Expectations { get; }

    public Contracts.V1.Hosts.HostsClient Hosts { get; }

    public Contracts.V1.Usage.UsageClient Usage { get; }

    public Metadata Headers { get; } = [];

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await ValueTask.CompletedTask;
    }

    /// <summary>Turns gRPC failures into messages: the server's own text, and whether the request (not the server) was wrong.</summary>
    public static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (RpcException e)
        {
            var usage = e.StatusCode is StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.AlreadyExists or StatusCode.OutOfRange;
            var detail = e.StatusCode == StatusCode.Unavailable && e.Status.Detail.StartsWith("Error connecting", StringComparison.Ordinal)
                ? "the server is not reachable"
                : e.Status.Detail;
            throw new SourceException($"{detail} ({e.StatusCode})", usage, e);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            throw new SourceException($"cannot talk to the server: {e.Message}", isUsage: false, e);
        }
    }
}

