using Grpc.Core;
using Microsoft.AspNetCore.Grpc.JsonTranscoding;

namespace PortHistory.Server.Apis;

/// <summary>Calls that arrived as HTTP/JSON (the contract's google.api.http routes) rather than as gRPC.</summary>
public static class HttpJson
{
    public static bool IsTranscoded(ServerCallContext context) =>
        context.GetHttpContext().GetEndpoint()?.Metadata.GetMetadata<GrpcJsonTranscodingMetadata>() is not null;
}
