using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Observations;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Sightings;
using PortHistory.Server.Application.Telemetry;
using PortHistory.Server.Application.Tests.Support;

namespace PortHistory.Server.Application.Tests.Sightings;

/// <summary>
/// The journal writer's rules with the journal in memory: acknowledged only once committed, a batch id written once,
/// and sequence numbers never used twice, even after a flush that failed and may have committed.
/// </summary>
public sealed class SightingIngestTests : IAsyncLifetime
{
    private const int Writer = 7;
    private static readonly Guid First = Guid.Parse("00000000-0000-0000-0000-000000000001");
    private static readonly Guid Second = Guid.Parse("00000000-0000-0000-0000-000000000002");
    private static readonly Guid Third = Guid.Parse("00000000-0000-0000-0000-000000000003");

    private readonly FakeJournalWriter _journal = new(Writer);
    private readonly MemoryProcessDictionary _processes = new();
    private readonly FakeObservationDelivery _delivery = new();
    private readonly ObservationDispatcher _dispatcher;
    private readonly SightingIngest _ingest;

    public SightingIngestTests()
    {
        var options = Options.Create(new SightingOptions { Writers = 1 });
        _dispatcher = new ObservationDispatcher(_delivery, options, new PortHistoryMetrics(), NullLogger<ObservationDispatcher>.Instance);
        var context = new ObservationContext(Options.Create(new VerdictOptions()), Options.Create(new ObservationOptions()));
        _ingest = new SightingIngest(_journal, _dispatcher, _processes, context, options, NullLogger<SightingIngest>.Instance);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        // A test that failed half-way may have left a commit waiting: release it, and do not wait on the writer for long.
        _journal.CommitGate?.TrySetResult();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _ingest.StopAsync(timeout.Token);
    }

    [Fact]
    public async Task A_batch_is_acknowledged_and_dispatched_only_after_its_flush_commits()
    {
        _journal.CommitGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _ingest.StartAsync(CancellationToken.None);
        var submitted = _ingest.SubmitAsync(First, [Sighting(80, "a"), Sighting(80, "b")], 0, CancellationToken.None);
        await _journal.CommitStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(submitted.IsCompleted);
        await _dispatcher.DispatchWindowAsync(CancellationToken.None);
        Assert.Empty(_delivery.Take());

        _journal.CommitGate.SetResult();
        Assert.Equal(new IngestResult(2, Duplicate: false), await submitted.WaitAsync(TimeSpan.FromSeconds(10)));
        await _dispatcher.DispatchWindowAsync(CancellationToken.None);
        Assert.Equal("7:0:1,2", ObservationDispatcherTests.Describe(_delivery.Take().Single().Deltas.Single()));
    }

    [Fact]
    public async Task A_batch_id_twice_in_one_flush_is_written_once_and_answered_as_a_duplicate_the_second_time()
    {
        IReadOnlyList<ValidSighting> sightings = [Sighting(80, "a"), Sighting(443, "b")];
        // Queued before the writer starts: both are in its first flush.
        var original = _ingest.SubmitAsync(First, sightings, 1, CancellationToken.None);
        var retry = _ingest.SubmitAsync(First, sightings, 1, CancellationToken.None);
        await _ingest.StartAsync(CancellationToken.None);

        var results = await Task.WhenAll(original, retry).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([new IngestResult(2, false), new IngestResult(2, true)], results);
        var flush = _journal.Flushes.Single();
        Assert.Equal([First], flush.ClaimOrder);
        Assert.Equal([(First, 80), (First, 443)], flush.Appended);
    }

    [Fact]
    public async Task A_batch_recorded_by_an_earlier_flush_is_answered_with_the_count_recorded_then()
    {
        _journal.RecordEarlier(First, 5);
        await _ingest.StartAsync(CancellationToken.None);

        var result = await _ingest.SubmitAsync(First, [Sighting(80, "a")], 0, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(new IngestResult(5, Duplicate: true), result);
        Assert.Empty(_journal.Flushes.Single().Appended);
    }

    [Fact]
    public async Task Batch_ids_and_host_rows_are_locked_in_key_order()
    {
        var late = _ingest.SubmitAsync(Second, [Sighting(80, "host-b")], 0, CancellationToken.None);
        var early = _ingest.SubmitAsync(First, [Sighting(80, "host-c")], 0, CancellationToken.None);
        var hosts = new[] { "host-b", "host-c", "host-a" }.Select(h => _ingest.CommitAsync(Commit(h, 0, []), CancellationToken.None)).ToList();
        await _ingest.StartAsync(CancellationToken.None);
        await Task.WhenAll(late, early).WaitAsync(TimeSpan.FromSeconds(10));
        await Task.WhenAll(hosts).WaitAsync(TimeSpan.FromSeconds(10));

        var flush = _journal.Flushes.Single();
        Assert.Equal([First, Second], flush.ClaimOrder);
        Assert.Equal(["host-a", "host-b", "host-c"], flush.HostOrder);
    }

    [Fact]
    public async Task Host_changes_are_added_up_per_process_numbered_after_the_sightings_and_dispatched_once_committed()
    {
        var ids = await _processes.IdsAsync([new("sshd", "/usr/sbin/sshd", "", ""), new("nginx", "/usr/sbin/nginx", "", "")], CancellationToken.None);
        Grains.Abstractions.ListenerDelta Added(int port, int process) => new(port, Transport.Tcp, process, Grains.Abstractions.ListenerChangeKind.Added, true, 1);
        var batch = _ingest.SubmitAsync(First, [Sighting(80, "host-z")], 0, CancellationToken.None);
        var one = _ingest.CommitAsync(Commit("host-a", 0, [Added(22, ids[0]), Added(80, ids[1])]), CancellationToken.None);
        var two = _ingest.CommitAsync(Commit("host-b", 0, [Added(22, ids[0])]), CancellationToken.None);
        await _ingest.StartAsync(CancellationToken.None);
        Assert.True(await one.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(await two.WaitAsync(TimeSpan.FromSeconds(10)));
        await batch.WaitAsync(TimeSpan.FromSeconds(10));

        var flush = _journal.Flushes.Single();
        Assert.Equal(1, flush.ListenerChangesAfterSeq);
        Assert.Equal([(22, 2), (80, 1)], flush.ListenerChanges.Select(c => (c.Port, c.Hosts)));

        await _dispatcher.DispatchWindowAsync(CancellationToken.None);
        var delivered = _delivery.Take().ToDictionary(d => d.Port, d => d.Deltas.Single().Entries);
        Assert.Equal(("sshd", 2, 2L), (delivered[22].Single().Process, delivered[22].Single().Hosts, delivered[22].Single().Seq));
        Assert.Equal(new long[] { 1, 3 }, delivered[80].Select(e => e.Seq));
    }

    [Fact]
    public async Task A_host_row_written_meanwhile_by_another_activation_is_a_conflict_and_adds_no_change()
    {
        _journal.HostVersions["host-a"] = 5;
        var stale = _ingest.CommitAsync(Commit("host-a", 3, [new(22, Transport.Tcp, 1, Grains.Abstractions.ListenerChangeKind.Added, true, 1)]), CancellationToken.None);
        await _ingest.StartAsync(CancellationToken.None);

        Assert.False(await stale.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Empty(_journal.Flushes.Single().ListenerChanges);
        Assert.Equal(5, _journal.HostVersions["host-a"]);
    }

    [Fact]
    public async Task A_failed_flush_fails_all_its_batches_and_its_sequence_numbers_are_never_used_again()
    {
        _journal.CommitFailures = 1;
        // Numbered in batch id order: First gets 1-2 (port 80), Second 3 (port 443).
        var second = _ingest.SubmitAsync(Second, [Sighting(443, "c")], 0, CancellationToken.None);
        var first = _ingest.SubmitAsync(First, [Sighting(80, "a"), Sighting(80, "b")], 0, CancellationToken.None);
        await _ingest.StartAsync(CancellationToken.None);

        await Assert.ThrowsAsync<InvalidOperationException>(() => first.WaitAsync(TimeSpan.FromSeconds(10)));
        await Assert.ThrowsAsync<InvalidOperationException>(() => second.WaitAsync(TimeSpan.FromSeconds(10)));
        var next = await _ingest.SubmitAsync(Third, [Sighting(80, "d")], 0, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(new IngestResult(1, false), next);
        Assert.Equal([0L, 3L], _journal.Flushes.Select(f => f.AfterSeq));
        // The ports were told the journal may hold the failed flush's entries (port 80 up to 2, port 443 up to 3).
        await _dispatcher.DispatchWindowAsync(CancellationToken.None);
        Assert.Equal(["80 7:2:4", "443 7:3:"],
            _delivery.Take().Select(c => $"{c.Port} {ObservationDispatcherTests.Describe(c.Deltas.Single())}"));
    }

    private static Grains.Abstractions.HostCommit Commit(string host, long expectedVersion, Grains.Abstractions.ListenerDelta[] changes) =>
        new(Grains.Abstractions.HostRecord.New(host, DateTime.UnixEpoch) with { Version = expectedVersion + 1 }, expectedVersion, changes, DateTime.UnixEpoch);

    private static ValidSighting Sighting(int port, string host) =>
        new(port, Transport.Tcp, host, HostRefs.Hash(host), new DateTime(2026, 5, 1, 12, 0, 0, DateTimeKind.Utc), AddressFamily.Ipv4, "0.0.0.0",
            BindScope.Wildcard, SocketState.Listen, "nginx", "/usr/sbin/nginx", 100, "www", false, "", "", "", "");
}
