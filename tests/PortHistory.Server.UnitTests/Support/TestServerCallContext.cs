using Grpc.Core;

namespace PortHistory.Server.UnitTests.Support;

/// <summary>A server call context for calling gRPC service methods directly, as grpc-dotnet's own service tests do.</summary>
public sealed class TestServerCallContext(Metadata? requestHeaders = null, CancellationToken cancellationToken = default, DateTime? deadline = null)
    : ServerCallContext
{
    private readonly Metadata _requestHeaders = requestHeaders ?? [];
    private readonly Metadata _responseTrailers = [];
    private readonly Dictionary<object, object> _userState = [];

    public Metadata? ResponseHeaders { get; private set; }

    protected override string MethodCore => "/porthistory.test/Method";

    protected override string HostCore => "localhost";

    protected override string PeerCore => "ipv4:127.0.0.1:50000";

    protected override DateTime DeadlineCore => deadline ?? DateTime.MaxValue;

    protected override Metadata RequestHeadersCore => _requestHeaders;

    protected override CancellationToken CancellationTokenCore => cancellationToken;

    protected override Metadata ResponseTrailersCore => _responseTrailers;

    protected override Status StatusCore { get; set; }

    protected override WriteOptions? WriteOptionsCore { get; set; }

    protected override AuthContext AuthContextCore => new(null, []);

    protected override IDictionary<object, object> UserStateCore => _userState;

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders)
    {
        ResponseHeaders = responseHeaders;
        return Task.CompletedTask;
    }
}
