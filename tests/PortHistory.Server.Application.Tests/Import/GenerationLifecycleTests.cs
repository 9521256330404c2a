// Over 250 lines: the lifecycle's specification, a case per step and failure, sharing one set of fakes.
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Registry.History;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Import;
using PortHistory.Server.Application.Registry;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Application.Tests.Import;

public sealed class GenerationLifecycleTests
{
    private static readonly DateOnly Older = new(2010, 1, 1);
    private static readonly DateOnly Newer = new(2020, 1, 1);

    private readonly FakeEditionStore _editions = new();
    private readonly FakeGenerationStore _generations;
    private readonly FakeRegistryStaging _grains = new();
    private readonly FakeCatalog _catalog = new();
    private readonly ImportProgressHub _progress = new(new PortHistoryMetrics());
    private readonly List<int> _observed = [443, 9999];
    private readonly GenerationLifecycle _lifecycle;

    public GenerationLifecycleTests()
    {
        _generations = new FakeGenerationStore(_editions);
        _lifecycle = Lifecycle();
    }

    /// <summary>An importer of its own (another silo's): it shares the stores, not the history it last committed.</summary>
    private GenerationLifecycle Lifecycle()
    {
        var staging = new PortStaging(_grains, _progress, Options.Create(new ImportOptions { StagingConcurrency = 4 }), NullLogger<PortStaging>.Instance);
        var derivation = new HistoryDerivation(_editions, _generations, new ParsedEditions(), new HistoryCache(), NullLogger<HistoryDerivation>.Instance);
        return new GenerationLifecycle(_editions, _generations, derivation, staging, _grains, _catalog,
            new ObservedPorts(_ => Task.FromResult<IReadOnlyList<int>>(_observed)), _progress, new PortHistoryMetrics(), NullLogger<GenerationLifecycle>.Instance);
    }

    private void Add(string id, DateOnly date, bool pending, params (string, int, string)[] rows) =>
        _editions.Editions.Add(TestEditions.Stored(id, date, pending, TestEditions.Csv(rows)));

    [Fact]
    public async Task Pending_editions_are_applied_together_in_one_generation_with_every_edition_ranked_in_history_order()
    {
        Add("complete", new DateOnly(2015, 1, 1), pending: false, ("http", 80, "WWW"));
        Add("newest", Newer, pending: true, ("http", 80, "World Wide Web"));
        Add("oldest", Older, pending: true, ("http", 80, "Web"));

        var generation = await _lifecycle.ApplyPendingAsync(CancellationToken.None);

        var started = Assert.Single(_generations.Started);
        Assert.Equal(["newest", "oldest"], started.Order());
        var commit = Assert.Single(_generations.Commits);
        Assert.Equal(generation, commit.Generation);
        Assert.Equal(["newest", "oldest"], commit.EditionIds.Order());
        Assert.Equal(["oldest", "complete", "newest"], commit.HistoryOrder);
        Assert.NotEmpty(commit.Index.Replace!.Versions);
        Assert.Equal(1, _catalog.Refreshes);
        Assert.Equal(0, _generations.LeasesHeld);
    }

    [Fact]
    public async Task Only_ports_whose_timelines_changed_are_staged_and_aborted_generations_reach_the_grains()
    {
        Add("first", Older, pending: true, ("http", 80, "WWW"), ("https", 443, "TLS"));
        await _lifecycle.ApplyPendingAsync(CancellationToken.None);
        Assert.Equal([80, 443], _grains.StageCalls.Keys.Order());

        _grains.StageCalls.Clear();
        _grains.AbortedSeen.Clear();
        _generations.Aborted.Add(7);
        Add("second", Newer, pending: true, ("http", 80, "WWW"), ("https", 443, "HTTP over TLS"), ("alt", 8080, "Alternate"));
        await _lifecycle.ApplyPendingAsync(CancellationToken.None);

        Assert.Equal([443, 8080], _grains.StageCalls.Keys.Order());
        // Every stage of the second generation is told of the aborted one (the bag holds the second run's stages only).
        Assert.Equal(2, _grains.AbortedSeen.Count);
        Assert.All(_grains.AbortedSeen, a => Assert.Equal([7L], a));
        Assert.Equal([443, 8080], _generations.Commits[^1].ChangedHashes.Select(c => c.Port).Order());
    }

    [Fact]
    public async Task Nothing_pending_starts_no_generation()
    {
        Add("done", Older, pending: false, ("http", 80, "WWW"));

        Assert.Null(await _lifecycle.ApplyPendingAsync(CancellationToken.None));
        Assert.Empty(_generations.Started);
        Assert.Empty(_generations.Commits);
        Assert.Equal(0, _generations.LeasesHeld);
    }

    [Fact]
    public async Task Without_the_import_lock_nothing_is_applied()
    {
        Add("waiting", Older, pending: true, ("http", 80, "WWW"));
        _generations.LockHeldElsewhere = true;

        Assert.Null(await _lifecycle.ApplyPendingAsync(CancellationToken.None));
        Assert.Empty(_generations.Started);
    }

    [Fact]
    public async Task A_stage_that_fails_for_a_passing_reason_is_retried_and_the_generation_commits()
    {
        Add("first", Older, pending: true, ("http", 80, "WWW"), ("https", 443, "TLS"));
        _grains.Failure = (port, call) => port == 443 && call == 1 ? new TimeoutException("silo did not answer") : null;

        await _lifecycle.ApplyPendingAsync(CancellationToken.None);

        Assert.Equal(2, _grains.StageCalls[443]);
        Assert.Single(_generations.Commits);
    }

    [Fact]
    public async Task A_stage_refused_as_written_by_a_stale_activation_is_made_again_and_the_generation_commits()
    {
        Add("first", Older, pending: true, ("http", 80, "WWW"), ("https", 443, "TLS"));
        _grains.Failure = (port, call) => port == 443 && call == 1
            ? new Orleans.Storage.InconsistentStateException("Version conflict (WriteState)", "12", "13")
            : null;

        await _lifecycle.ApplyPendingAsync(CancellationToken.None);

        Assert.Equal(2, _grains.StageCalls[443]);
        Assert.Single(_generations.Commits);
    }

    [Fact]
    public async Task A_stage_that_fails_for_good_fails_the_generation_before_its_commit_and_reports_the_failure()
    {
        Add("first", Older, pending: true, ("http", 80, "WWW"), ("https", 443, "TLS"));
        _grains.Failure = (port, _) => port == 443 ? new InvalidOperationException("grain state is corrupt\nstack trace") : null;
        using var watch = _progress.Follow("first");

        await Assert.ThrowsAsync<InvalidOperationException>(() => _lifecycle.ApplyPendingAsync(CancellationToken.None));

        Assert.Equal(1, _grains.StageCalls[443]);
        Assert.Empty(_generations.Commits);
        Assert.Equal(0, _catalog.Refreshes);
        var last = Drain(watch)[^1];
        Assert.NotNull(last.Failure);
        Assert.Equal("grain state is corrupt", last.Message);
        Assert.Equal(0, _generations.LeasesHeld);
    }

    [Fact]
    public async Task A_generation_aborted_before_its_commit_is_never_reported_committed()
    {
        Add("first", Older, pending: true, ("http", 80, "WWW"));
        _generations.AbortBeforeCommit = true;
        using var watch = _progress.Follow("first");

        await Assert.ThrowsAsync<GenerationAbortedException>(() => _lifecycle.ApplyPendingAsync(CancellationToken.None));

        var events = Drain(watch);
        Assert.DoesNotContain(events, e => e.Stage == ImportStage.Committed);
        Assert.NotNull(events[^1].Failure);
        Assert.Equal(0, _catalog.Refreshes);
        Assert.Empty(_grains.VerdictsRefreshed);
        Assert.True(_editions.Editions.Single().Pending);
    }

    [Fact]
    public async Task Progress_goes_staging_indexing_committed_and_verdicts_are_redone_for_the_observed_ports()
    {
        Add("first", Older, pending: true, ("http", 80, "WWW"), ("https", 443, "TLS"));
        using var watch = _progress.Follow("first");

        var generation = await _lifecycle.ApplyPendingAsync(CancellationToken.None);

        var events = Drain(watch);
        Assert.Equal($"staging 2 changed ports in generation {generation}", events[0].Message);
        Assert.Equal((ImportStage.Staging, 0, 2), (events[0].Stage, events[0].Done, events[0].Total));
        Assert.Equal(["staged 1 of 2 ports", "staged 2 of 2 ports"], events[1..^2].Select(e => e.Message));
        Assert.Equal((ImportStage.Indexing, "writing the query index and committing"), (events[^2].Stage, events[^2].Message));
        Assert.Equal((ImportStage.Committed, $"committed in generation {generation}"), (events[^1].Stage, events[^1].Message));
        Assert.All(events, e => Assert.Equal(generation, e.Generation));
        Assert.Equal([443, 9999], _grains.VerdictsRefreshed.Order());
    }

    [Fact]
    public async Task A_newer_edition_is_appended_and_only_the_index_rows_it_changes_are_written()
    {
        Add("first", Older, pending: true, ("http", 80, "WWW"), ("https", 443, "TLS"));
        await _lifecycle.ApplyPendingAsync(CancellationToken.None);
        Assert.NotNull(_generations.Commits[^1].Index.Replace);

        Add("second", Newer, pending: true, ("http", 80, "WWW"), ("https", 443, "HTTP over TLS"));
        await _lifecycle.ApplyPendingAsync(CancellationToken.None);

        var commit = _generations.Commits[^1];
        Assert.Null(commit.Index.Replace);
        // 443's first version now ends at the first edition, its second starts at the second; 80's row is left alone.
        Assert.Equal([(443, 0, 0, 0), (443, 1, 1, QueryIndexRows.OpenThrough)],
            commit.Index.Delta!.Versions.Select(r => (r.PortFirst, r.VersionIndex, r.FromRank, r.ThroughRank)).Order());
        Assert.Empty(commit.Index.Delta.DeletedVersions);
        Assert.Equal([2, 1], commit.ChangeCounts);
        // Read back from the index once, before anything was committed; then from this importer's own history.
        Assert.Equal(1, _generations.HistoryLoads);
    }

    [Fact]
    public async Task An_edition_that_says_what_the_one_before_said_stages_nothing_and_counts_no_change()
    {
        Add("first", Older, pending: true, ("http", 80, "WWW"));
        await _lifecycle.ApplyPendingAsync(CancellationToken.None);
        _grains.StageCalls.Clear();

        // Spelling that varies (case) is not a change.
        Add("same", Newer, pending: true, ("http", 80, "www"));
        await _lifecycle.ApplyPendingAsync(CancellationToken.None);

        var commit = _generations.Commits[^1];
        Assert.Empty(_grains.StageCalls);
        Assert.Equal([1, 0], commit.ChangeCounts);
        Assert.Equal(0, commit.Index.Delta!.RowsWritten + commit.Index.Delta.RowsDeleted);
        Assert.False(_editions.Editions.Single(e => e.Id == "same").Pending);
    }

    [Fact]
    public async Task An_older_edition_cuts_the_history_back_and_what_it_commits_is_what_a_full_build_gives()
    {
        var middle = new DateOnly(2015, 1, 1);
        Add("middle", middle, pending: true, ("http", 80, "WWW"), ("https", 443, "TLS"));
        await _lifecycle.ApplyPendingAsync(CancellationToken.None);
        Add("newest", Newer, pending: true, ("http", 80, "World Wide Web"), ("https", 443, "TLS"));
        await _lifecycle.ApplyPendingAsync(CancellationToken.None);
        Add("oldest", Older, pending: true, ("http", 80, "Web"));
        await _lifecycle.ApplyPendingAsync(CancellationToken.None);

        var commit = _generations.Commits[^1];
        Assert.Equal(["oldest", "middle", "newest"], commit.HistoryOrder);
        var full = RegistryProjection.Build(RegistryHistory.Build(
        [
            TestEditions.Parsed("oldest", Older, TestEditions.Csv(("http", 80, "Web"))) with { Title = "oldest" },
            TestEditions.Parsed("middle", middle, TestEditions.Csv(("http", 80, "WWW"), ("https", 443, "TLS"))) with { Title = "middle" },
            TestEditions.Parsed("newest", Newer, TestEditions.Csv(("http", 80, "World Wide Web"), ("https", 443, "TLS"))) with { Title = "newest" },
        ]));
        // Ranks moved: most rows change, and the index as written is the full build's.
        Assert.Equal(Rows(full.Index.Versions), Rows(_generations.IndexVersions.Values.OrderBy(r => r.Key)));
        Assert.Equal(full.ChangeCounts, commit.ChangeCounts);
        Assert.Equal(1, _generations.HistoryLoads);
    }

    [Fact]
    public async Task After_another_importer_commits_the_history_is_read_back_and_the_index_written_whole()
    {
        Add("first", Older, pending: true, ("http", 80, "WWW"));
        await _lifecycle.ApplyPendingAsync(CancellationToken.None);
        Add("second", new DateOnly(2015, 1, 1), pending: true, ("http", 80, "World Wide Web"));
        await Lifecycle().ApplyPendingAsync(CancellationToken.None);

        Add("third", Newer, pending: true, ("http", 80, "Web"));
        await _lifecycle.ApplyPendingAsync(CancellationToken.None);

        var commit = _generations.Commits[^1];
        Assert.Equal(["first", "second", "third"], commit.HistoryOrder);
        Assert.NotNull(commit.Index.Replace);
        Assert.Equal(3, _generations.HistoryLoads);
        Assert.Equal([1, 1, 1], commit.ChangeCounts);
    }

    private static List<string> Rows(IEnumerable<VersionRow> rows) =>
        [.. rows.Select(r => $"{r.Transport} {r.PortFirst}-{r.PortLast} v{r.VersionIndex} {r.FromRank}..{r.ThroughRank} {Convert.ToHexString(r.Version)}")];

    private static List<ImportEvent> Drain(ImportProgressHub.Watch watch)
    {
        var events = new List<ImportEvent>();
        while (watch.Events.Reader.TryRead(out var e)) events.Add(e);
        return events;
    }
}
