using Grpc.Core;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Server.Apis;
using PortHistory.Server.Application.Access;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Sightings;
using PortHistory.Server.Application.Telemetry;
using PortHistory.Server.UnitTests.Support;

namespace PortHistory.Server.UnitTests.Apis;

/// <summary>The Sightings adapter: a batch is validated, its valid sightings recorded, and the outcome mapped to the answer.</summary>
public sealed class SightingsApiTests
{
    private const string BatchId = "3f2b8c1e-5a4d-4e6f-9b7a-1c2d3e4f5a6b";
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private readonly FakeRecorder _recorder = new();
    private readonly RecordingHostReports _hosts = new();

    [Fact]
    public async Task A_batch_whose_id_is_not_a_uuid_is_refused_whole_and_nothing_is_recorded()
    {
        var batch = new SightingBatch { BatchId = "not-a-uuid", Sightings = { Good("host-a") } };

        var result = await Api().ReportBatch(batch, Agent());

        Assert.StartsWith("batch_id: ", result.Error);
        Assert.Equal((0u, false, "not-a-uuid"), (result.Accepted, result.Duplicate, result.BatchId));
        Assert.Empty(_recorder.Calls);
    }

    [Fact]
    public async Task The_valid_sightings_are_recorded_and_the_answer_carries_the_recorded_count_and_the_rejected_ones()
    {
        var bad = Good("host-c");
        bad.ClearPort();
        var batch = new SightingBatch { BatchId = BatchId, Sightings = { Good("host-a"), Good("host-b"), bad } };
        _recorder.Answer = new IngestResult(5, Duplicate: true);

        var result = await Api().ReportBatch(batch, Agent());

        var call = Assert.Single(_recorder.Calls);
        Assert.Equal((Guid.Parse(BatchId), 2, 1), (call.BatchId, call.Sightings.Count, call.Rejected));
        Assert.Equal(["host-a", "host-b"], call.Sightings.Select(s => s.HostRef));
        Assert.Equal((5u, true, "", BatchId), (result.Accepted, result.Duplicate, result.Error, result.BatchId));
        var rejected = Assert.Single(result.Rejected);
        Assert.Equal((2u, "port"), (rejected.Index, rejected.Field));
    }

    [Fact]
    public async Task A_batch_without_a_valid_sighting_is_not_recorded()
    {
        var bad = Good("host-a");
        bad.ClearPort();

        var result = await Api().ReportBatch(new SightingBatch { BatchId = BatchId, Sightings = { bad } }, Agent());

        Assert.Equal((0u, false, 1), (result.Accepted, result.Duplicate, result.Rejected.Count));
        Assert.Empty(_recorder.Calls);
    }

    [Fact]
    public async Task An_agent_beyond_its_rate_is_told_when_to_retry()
    {
        var api = Api(new RateLimitOptions { SightingsPerSecond = 1, Burst = 1 });
        await api.ReportBatch(new SightingBatch { BatchId = BatchId, Sightings = { Good("host-a") } }, Agent());

        var refused = await Assert.ThrowsAsync<RpcException>(() => api.ReportBatch(new SightingBatch { BatchId = BatchId, Sightings = { Good("host-a") } }, Agent()));

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains(refused.Trailers, t => t.Key == "retry-after-ms");
        Assert.Single(_recorder.Calls);
    }

    [Fact]
    public async Task A_batch_whose_hosts_find_the_server_busy_is_recorded_and_the_agent_told_when_to_send_it_again()
    {
        _hosts.ScansAnswer = new PortHistory.Grains.Abstractions.HostsBusyException(TimeSpan.Zero);

        var refused = await Assert.ThrowsAsync<RpcException>(() => Api().ReportBatch(new SightingBatch { BatchId = BatchId, Sightings = { Good("host-a") } }, Agent()));

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Equal("3000", refused.Trailers.GetValue("retry-after-ms"));
        // Recorded all the same: the batch sent again is a duplicate for the journal and completes the host's scan.
        Assert.Single(_recorder.Calls);
        Assert.Single(_hosts.Scans);
    }

    [Fact]
    public async Task A_host_s_credential_naming_another_host_is_refused_whole_and_nothing_is_recorded()
    {
        var batch = new SightingBatch { BatchId = BatchId, Sightings = { Good("host-a"), Good("host-b") } };

        var refused = await Assert.ThrowsAsync<RpcException>(() => Api().ReportBatch(batch, Agent(boundTo: "host-a")));

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.StartsWith("host_ref: sighting 1 names another host", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Empty(_recorder.Calls);
    }

    [Fact]
    public async Task A_host_s_credential_reports_its_own_host_and_a_shared_token_any_host()
    {
        // Padding is trimmed before the comparison, as it is before recording.
        var padded = Good(" host-a ");
        padded.Port = 112;
        var own = await Api().ReportBatch(new SightingBatch { BatchId = BatchId, Sightings = { Good("host-a"), padded } }, Agent(boundTo: "host-a"));
        var shared = await Api().ReportBatch(new SightingBatch { BatchId = BatchId, Sightings = { Good("host-a"), Good("host-b") } }, Agent());

        Assert.Equal((2u, 2u), (own.Accepted, shared.Accepted));
        Assert.Equal(2, _recorder.Calls.Count);
    }

    private SightingsApi Api(RateLimitOptions? rateLimit = null)
    {
        var options = Options.Create(new SightingOptions());
        // Only a Report stream authorizes again (per batch): ReportBatch never asks for a token.
        return new SightingsApi(new SightingValidator(options, TimeProvider.System), _recorder, _hosts, new SightingRateLimiter(Options.Create(rateLimit ?? new RateLimitOptions()), new PortHistoryMetrics()),
            new CallAuthorization(null!), options, new PortHistoryMetrics());
    }

    /// <summary>A call as the gateway hands it on once authorized: the principal among its request's features.</summary>
    private static TestServerCallContext Agent(string? boundTo = null)
    {
        var http = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        http.Features.Set(new Principal("tok_test", "test-agent", Role.Agent, boundTo));
        var context = new TestServerCallContext();
        // Where grpc-dotnet finds the HttpContext of a call context it did not make.
        context.UserState["__HttpContext"] = http;
        return context;
    }

    private static Sighting Good(string hostRef) => new()
    {
        HostRef = hostRef,
        ObservedAt = Timestamp.FromDateTimeOffset(Now.AddMinutes(-1)),
        Transport = Transport.Tcp,
        LocalAddress = "0.0.0.0",
        Port = 111,
        ProcessName = "rpcbind",
        Executable = "/usr/sbin/rpcbind",
        Pid = 812,
    };

    private sealed class FakeRecorder : ISightingRecorder
    {
        public List<(Guid BatchId, IReadOnlyList<ValidSighting> Sightings, int Rejected)> Calls { get; } = [];

        public IngestResult? Answer { get; set; }

        public Task<IngestResult> SubmitAsync(Guid batchId, IReadOnlyList<ValidSighting> sightings, int rejected, CancellationToken cancellationToken)
        {
            Calls.Add((batchId, sightings, rejected));
            return Task.FromResult(Answer ?? new IngestResult(sightings.Count, Duplicate: false));
        }
    }
}
