using Grpc.Core;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Tests;

/// <summary>
/// A Sightings service in memory: answers ReportBatch like the server (a batch_id seen before is a duplicate, counted
/// once), or fails every call with Unavailable while <see cref="Down"/>. No sockets, no sleeping.
/// </summary>
public sealed class FakeSightingsServer : UnaryCallInvoker
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

    protected override object Answer(IMethod method, object request, CallOptions options)
    {
        var batch = (SightingBatch)request;
        lock (_gate)
        {
            Calls++;
            if (Down) throw new RpcException(new Status(StatusCode.Unavailable, "server down for the test"));
            if (Refuse(batch) is { } error) return new BatchResult { BatchId = batch.BatchId, Error = error };
            var duplicate = !_seen.Add(batch.BatchId);
            if (!duplicate) Recorded.Add(batch.Clone());
            return new BatchResult { BatchId = batch.BatchId, Accepted = (uint)batch.Sightings.Count, Duplicate = duplicate };
        }
    }
}
