using Grpc.Core;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Tests;

/// <summary>
/// A Sightings service in memory: answers ReportBatch like the server (a batch_id seen before is a duplicate, counted
/// once), or fails every call with Unavailable while <see cref="Down"/>. No sockets, no sleeping.
/// </summary>
public sealed class FakeSightingsServer : CallInvoker
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _seen = [];

    public bool Down { get; set; }

    /// <summary>Batches recorded, in the order they first arrived.</summary>
    public List<SightingBatch> Recorded { get; } = [];

    /// <summary>Every call, answered or not.</summary>
    public int Calls { get; private set; }

    /// <summary>Answers a batch with this error (refused as a whole) when it returns one.</summary>
    public Func<SightingBatch, string?> Refuse { get; set; } = _ => null;

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        var batch = (SightingBatch)(object)request;
        Task<TResponse> response;
        lock (_gate)
        {
            Calls++;
            if (Down)
            {
                response = Task.FromException<TResponse>(new RpcException(new Status(StatusCode.Unavailable, "server down for the test")));
            }
            else if (Refuse(batch) is { } error)
            {
                response = Task.FromResult((TResponse)(object)new BatchResult { BatchId = batch.BatchId, Error = error });
            }
            else
            {
                var duplicate = !_seen.Add(batch.BatchId);
                if (!duplicate) Recorded.Add(batch.Clone());
                response = Task.FromResult((TResponse)(object)new BatchResult
                {
                    BatchId = batch.BatchId, Accepted = (uint)batch.Sightings.Count, Duplicate = duplicate,
                });
            }
        }

        return new AsyncUnaryCall<TResponse>(response, Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });
    }

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        throw new NotSupportedException();

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) => throw new NotSupportedException();

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options) => throw new NotSupportedException();

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options) => throw new NotSupportedException();
}
