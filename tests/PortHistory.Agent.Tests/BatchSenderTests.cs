using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using PortHistory.Agent.Sending;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Tests;

/// <summary>BatchSender against a scripted call invoker: no server, no sleeping (waits are recorded, not taken).</summary>
public sealed class BatchSenderTests
{
    private readonly StringWriter _output = new();
    private readonly StringWriter _error = new();
    private readonly List<TimeSpan> _waits = [];

    private BatchSender Sender(ScriptedInvoker invoker, RetryPolicy? policy = null) => new(
        new Sightings.SightingsClient(invoker), () => "agent-token", _output, _error, new CallRetries(policy,
            delay: (wait, _) =>
            {
                _waits.Add(wait);
                return Task.CompletedTask;
            },
            jitter: () => 0));

    private static SightingBatch Batch(int sightings = 2) => BatchSender.Split([.. Enumerable.Range(0, sightings).Select(i => new Sighting
    {
        HostRef = "h", Transport = Transport.Tcp, Port = (uint)(1000 + i), LocalAddress = "0.0.0.0", ProcessName = "p",
        ObservedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch),
    })], 500)[0];

    private static RpcException Failure(StatusCode code, Metadata? trailers = null) => new(new Status(code, $"{code} for the test"), trailers ?? []);

    [Fact]
    public async Task A_transient_failure_is_retried_with_the_same_batch_id_until_acknowledged()
    {
        var batch = Batch();
        var invoker = new ScriptedInvoker(
            _ => throw Failure(StatusCode.Unavailable),
            _ => throw Failure(StatusCode.ResourceExhausted, new Metadata { { "retry-after", "4" } }),
            _ => throw Failure(StatusCode.DeadlineExceeded),
            request => new BatchResult { BatchId = request.BatchId, Accepted = 2 });

        var outcome = await Sender(invoker).SendBatchAsync(batch, CancellationToken.None);

        Assert.Equal(BatchStatus.Acknowledged, outcome.Status);
        Assert.Equal(4, outcome.Attempts);
        Assert.Equal(Enumerable.Repeat(batch.BatchId, 4), invoker.Calls.Select(c => c.BatchId));
        Assert.All(invoker.Calls, c => Assert.Equal("Bearer agent-token", c.Authorization));
        Assert.All(invoker.Calls, c => Assert.NotNull(c.Deadline));
        // Backoff for retry 1 (1 s, halved at zero jitter), the server's retry-after of 4 s, then backoff for retry 3 (4 s, halved).
        Assert.Equal([TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(2)], _waits);
        Assert.Contains($"batch {batch.BatchId}: 2 accepted, 0 rejected", _output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retries_run_out_after_the_policy_s_attempts()
    {
        var invoker = new ScriptedInvoker(Enumerable.Repeat<Func<SightingBatch, BatchResult>>(_ => throw Failure(StatusCode.Unavailable), 3).ToArray());

        var outcome = await Sender(invoker, new RetryPolicy(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), MaxAttempts: 3))
            .SendBatchAsync(Batch(), CancellationToken.None);

        Assert.Equal((BatchStatus.Failed, 3), (outcome.Status, outcome.Attempts));
        Assert.Equal(3, invoker.Calls.Count);
        Assert.Equal(2, _waits.Count);
        Assert.Contains("giving up after 3 attempts", _error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(StatusCode.Unauthenticated, "--token")]
    [InlineData(StatusCode.PermissionDenied, "agent role")]
    [InlineData(StatusCode.InvalidArgument, "invalid")]
    public async Task A_refusal_of_the_agent_is_fatal_and_not_retried(StatusCode code, string hint)
    {
        var invoker = new ScriptedInvoker(_ => throw Failure(code));

        var refused = await Assert.ThrowsAsync<ServerRefusedException>(() => Sender(invoker).SendBatchAsync(Batch(), CancellationToken.None));

        Assert.Equal(code, refused.Code);
        Assert.Contains(hint, refused.Message, StringComparison.Ordinal);
        Assert.Single(invoker.Calls);
        Assert.Empty(_waits);
    }

    [Fact]
    public async Task A_failure_that_retrying_cannot_fix_fails_the_batch_at_once()
    {
        var invoker = new ScriptedInvoker(_ => throw Failure(StatusCode.Unimplemented));

        var outcome = await Sender(invoker).SendBatchAsync(Batch(), CancellationToken.None);

        Assert.Equal((BatchStatus.Failed, 1), (outcome.Status, outcome.Attempts));
        Assert.Empty(_waits);
    }

    [Fact]
    public async Task Rejections_duplicates_and_refused_batches_are_reported_and_summed()
    {
        var batches = new[] { Batch(3), Batch(), Batch() };
        var invoker = new ScriptedInvoker(
            request => new BatchResult
            {
                BatchId = request.BatchId, Accepted = 2,
                Rejected = { new RejectedSighting { Index = 1, Field = "process_name", Reason = "is required (or executable)" } },
            },
            request => new BatchResult { BatchId = request.BatchId, Accepted = 2, Duplicate = true },
            request => new BatchResult { BatchId = request.BatchId, Error = "sightings: 9000 in one batch; the limit is 5000" });

        var summary = await Sender(invoker).SendAsync(batches, CancellationToken.None);

        Assert.Equal(new SendSummary(Batches: 3, Acknowledged: 2, Accepted: 4, Rejected: 1, Duplicates: 1), summary);
        Assert.False(summary.AllAcknowledged);
        var output = _output.ToString();
        Assert.Contains("rejected #1 (tcp 0.0.0.0:1001 p) process_name: is required (or executable)", output, StringComparison.Ordinal);
        Assert.Contains($"batch {batches[1].BatchId}: duplicate", output, StringComparison.Ordinal);
        Assert.Contains($"batch {batches[2].BatchId}: refused: sightings: 9000", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_during_a_retry_wait_stops_sending()
    {
        using var cancellation = new CancellationTokenSource();
        var invoker = new ScriptedInvoker(_ => throw Failure(StatusCode.Unavailable), _ => throw new InvalidOperationException("not called again"));
        var sender = new BatchSender(new Sightings.SightingsClient(invoker), () => "t", _output, _error, new CallRetries(delay: (_, token) =>
        {
            cancellation.Cancel();
            return Task.FromCanceled(token);
        }));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sender.SendBatchAsync(Batch(), cancellation.Token));
        Assert.Single(invoker.Calls);
    }

    [Fact]
    public void Sightings_are_split_into_batches_of_at_most_the_batch_size_each_with_its_own_uuid()
    {
        var sightings = Enumerable.Range(0, 1201).Select(i => new Sighting { Port = (uint)i }).ToList();

        var batches = BatchSender.Split(sightings, 500);

        Assert.Equal([500, 500, 201], batches.Select(b => b.Sightings.Count));
        Assert.Equal(sightings, batches.SelectMany(b => b.Sightings));
        Assert.All(batches, b => Assert.True(Guid.TryParse(b.BatchId, out _)));
        Assert.Equal(3, batches.Select(b => b.BatchId).Distinct().Count());
        Assert.Empty(BatchSender.Split([], 500));
        Assert.All(BatchSender.Split(sightings, 500, "db"), b => Assert.Equal("db", b.HostGroup));
        Assert.All(batches, b => Assert.Equal("", b.HostGroup));
    }

    /// <summary>Answers ReportBatch calls from a script, one step per call, and records what each call carried.</summary>
    private sealed class ScriptedInvoker(params Func<SightingBatch, BatchResult>[] steps) : UnaryCallInvoker
    {
        private int _next;

        public List<(string BatchId, string? Authorization, DateTime? Deadline)> Calls { get; } = [];

        protected override object Answer(IMethod method, object request, CallOptions options)
        {
            var batch = (SightingBatch)request;
            Calls.Add((batch.BatchId, options.Headers?.GetValue("authorization"), options.Deadline));
            return steps[_next++](batch);
        }
    }
}
