// Over 250 lines: the in-memory stores the import tests share (editions, generations, staging, catalog), one fake each.
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using PortHistory.Registry.Formats;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;
using PortHistory.Server.Application.Import;
using PortHistory.Server.Application.Registry;

namespace PortHistory.Server.Application.Tests.Import;

/// <summary>Small IANA CSV editions: one row per (service, port, transport, description).</summary>
public static class TestEditions
{
    private const string Header =
        "Service Name,Port Number,Transport Protocol,Description,Assignee,Contact,Registration Date,Modification Date,Reference,Service Code,Unauthorized Use Reported,Assignment Notes\r\n";

    public static byte[] Csv(params (string Name, int Port, string Description)[] rows) =>
        Csv(rows.Select(r => (r.Name, r.Port.ToString(CultureInfo.InvariantCulture), "tcp", r.Description)).ToArray());

    /// <summary>Rows with a port or a range ("100-105") and a transport each.</summary>
    public static byte[] Csv(params (string Name, string Ports, string Transport, string Description)[] rows) =>
        Encoding.UTF8.GetBytes(Header + string.Concat(rows.Select(r => $"{r.Name},{r.Ports},{r.Transport},{r.Description},,,,,,,,\r\n")));

    /// <summary>The bytes of every edition made here, by SHA-256: the fake store's originals.</summary>
    public static ConcurrentDictionary<string, byte[]> Originals { get; } = new(StringComparer.Ordinal);

    public static StoredEdition Stored(string id, DateOnly date, bool pending, byte[] content)
    {
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(content));
        Originals[sha256] = content;
        return new(id, sha256, EditionFileFormat.IanaCsv, id, date, EditionDateSource.Override, $"{id}.csv", pending);
    }

    public static RegistryEdition Parsed(string id, DateOnly date, byte[] content) =>
        EditionReader.Read(new EditionContent(content, $"{id}.csv"), new EditionReadOptions { Format = EditionFileFormat.IanaCsv, EffectiveDate = date, Id = id });
}

/// <summary>The editions table in memory, with the same rules for duplicates as the SQL.</summary>
public sealed class FakeEditionStore : IEditionStore
{
    public List<StoredEdition> Editions { get; } = [];

    public Dictionary<string, long> CommittedIn { get; } = [];

    public Dictionary<string, EditionOrigin?> Origins { get; } = [];

    /// <summary>How many of the next calls to store or find an edition fail as if PostgreSQL refused the connection.</summary>
    public int Unreachable { get; set; }

    /// <summary>How many calls to store or find an edition were made, failed ones included.</summary>
    public int Calls { get; private set; }

    private void Call()
    {
        Calls++;
        if (Unreachable <= 0) return;
        Unreachable--;
        throw new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused);
    }

    public Task<SubmitOutcome> AddPendingAsync(RegistryEdition edition, ReadOnlyMemory<byte> content, EditionOrigin? origin, CancellationToken cancellationToken)
    {
        lock (Editions)
        {
            Call();
            var existing = Editions.FirstOrDefault(e => e.Sha256 == edition.Sha256) ?? Editions.FirstOrDefault(e => e.Id == edition.Id);
            if (existing is null)
            {
                TestEditions.Originals[edition.Sha256] = content.ToArray();
                Origins[edition.Id] = origin;
                Editions.Add(new StoredEdition(edition.Id, edition.Sha256, edition.Format, edition.Title, edition.EffectiveDate, edition.DateSource, edition.Source,
                    true));
                return Task.FromResult(new SubmitOutcome(SubmitResult.Queued, edition.Id, null));
            }

            if (existing.Sha256 != edition.Sha256) return Task.FromResult(new SubmitOutcome(SubmitResult.IdTaken, existing.Id, existing.Sha256));
            return Task.FromResult(new SubmitOutcome(existing.Pending ? SubmitResult.Queued : SubmitResult.AlreadyImported, existing.Id, existing.Sha256));
        }
    }

    public Task<IReadOnlyList<StoredEdition>> LoadAllAsync(CancellationToken cancellationToken)
    {
        lock (Editions) return Task.FromResult<IReadOnlyList<StoredEdition>>([.. Editions]);
    }

    public Task<FoundEdition?> FindAsync(string id, CancellationToken cancellationToken)
    {
        lock (Editions)
        {
            Call();
            var found = Editions.FirstOrDefault(e => e.Id == id);
            return Task.FromResult(found is null
                ? null
                : new FoundEdition(new EditionOverview(found.Id, found.Format, found.Title, found.EffectiveDate, found.DateSource, found.Source, found.Sha256,
                    TestEditions.Originals[found.Sha256].Length, 0, 0), found.Pending ? null : DateTimeOffset.UnixEpoch, CommittedIn.TryGetValue(id, out var g) ? g : null, found.Pending));
        }
    }

    public Task<byte[]> ReadOriginalAsync(string id, CancellationToken cancellationToken)
    {
        lock (Editions)
        {
            var found = Editions.FirstOrDefault(e => e.Id == id) ?? throw new OriginalUnreadableException(id, "no such edition");
            var bytes = TestEditions.Originals[found.Sha256];
            if (Convert.ToHexStringLower(SHA256.HashData(bytes)) != found.Sha256) throw new OriginalUnreadableException(id, "the stored bytes no longer have its sha256");
            return Task.FromResult(bytes);
        }
    }

    public Task<CommittedEditions> ListCommittedAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

    public Dictionary<string, string> Remarks { get; } = [];

    public Task RecordReparseAsync(string id, int records, int warnings, byte[] parseDigest, string remark, CancellationToken cancellationToken)
    {
        lock (Editions)
        {
            Remarks[id] = remark;
            var i = Editions.FindIndex(e => e.Id == id);
            Editions[i] = Editions[i] with { Records = records, Warnings = warnings, ParseDigest = parseDigest };
        }

        return Task.CompletedTask;
    }

    public void MarkCommitted(IEnumerable<string> ids, long generation)
    {
        lock (Editions)
        {
            foreach (var id in ids)
            {
                var i = Editions.FindIndex(e => e.Id == id);
                Editions[i] = Editions[i] with { Pending = false };
                CommittedIn[id] = generation;
            }
        }
    }
}

/// <summary>The generation tables in memory; a commit also marks the editions committed, as the SQL does.</summary>
public sealed class FakeGenerationStore(FakeEditionStore editions) : IGenerationStore
{
    private long _next = 10;

    public bool LockHeldElsewhere { get; set; }

    public int LeasesHeld { get; private set; }

    public List<long> Aborted { get; } = [];

    public List<IReadOnlyCollection<string>> Started { get; } = [];

    public Dictionary<int, byte[]> CommittedHashes { get; } = [];

    public List<GenerationCommit> Commits { get; } = [];

    /// <summary>Set: the next commit finds its generation aborted by another importer.</summary>
    public bool AbortBeforeCommit { get; set; }

    public Task<IAsyncDisposable?> TryAcquireImportLockAsync(CancellationToken cancellationToken)
    {
        if (LockHeldElsewhere) return Task.FromResult<IAsyncDisposable?>(null);
        LeasesHeld++;
        return Task.FromResult<IAsyncDisposable?>(new Lease(this));
    }

    public Task AbortApplyingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<long[]> AbortedAsync(CancellationToken cancellationToken) => Task.FromResult(Aborted.ToArray());

    public Task<long> StartAsync(IReadOnlyCollection<string> editionIds, CancellationToken cancellationToken)
    {
        Started.Add([.. editionIds]);
        return Task.FromResult(++_next);
    }

    public Task<IReadOnlyDictionary<int, byte[]>> CommittedHashesAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyDictionary<int, byte[]>>(new Dictionary<int, byte[]>(CommittedHashes));

    public Task<long> CommittedGenerationAsync(CancellationToken cancellationToken) => Task.FromResult(Commits.Count == 0 ? 0 : Commits[^1].Generation);

    public int HistoryLoads { get; private set; }

    /// <summary>As the SQL reads it back from the index: the committed editions' history, which cannot be cut back.</summary>
    public async Task<CommittedHistory> LoadCommittedHistoryAsync(CancellationToken cancellationToken)
    {
        HistoryLoads++;
        if (Commits.Count == 0) return new CommittedHistory(0, HistoryLedger.Empty);
        var all = await editions.LoadAllAsync(cancellationToken);
        var order = Commits[^1].HistoryOrder;
        var ledger = HistoryLedger.Empty;
        foreach (var id in order)
        {
            var stored = all.Single(e => e.Id == id);
            ledger = ledger.Append(ParsedEditions.Parse(stored, TestEditions.Originals[stored.Sha256]));
        }

        var restored = HistoryLedger.Restore(ledger.Editions,
            TransportProtocols.All.ToDictionary(t => t, t => (IReadOnlyList<(PortSpan, ImmutableArray<LedgerVersion>)>)
                [.. ledger.Segments(t).Where(s => !s.Versions.IsEmpty).Select(s => (s.Ports, s.Versions))]),
            ledger.NameOnly);
        return new CommittedHistory(Commits[^1].Generation, restored);
    }

    /// <summary>The query index as the commits wrote it: replaced whole, or changed row by row.</summary>
    public Dictionary<(short, int, int), VersionRow> IndexVersions { get; } = [];

    public Task CommitAsync(GenerationCommit commit, CancellationToken cancellationToken)
    {
        if (AbortBeforeCommit) throw new GenerationAbortedException(commit.Generation, "aborted");
        if (commit.Index.Replace is { } rows) IndexVersions.Clear();
        foreach (var key in commit.Index.Delta?.DeletedVersions ?? []) IndexVersions.Remove(key);
        foreach (var row in commit.Index.Replace?.Versions ?? commit.Index.Delta!.Versions) IndexVersions[row.Key] = row;
        foreach (var (port, hash) in commit.ChangedHashes) CommittedHashes[port] = hash;
        editions.MarkCommitted(commit.EditionIds, commit.Generation);
        Commits.Add(commit);
        return Task.CompletedTask;
    }

    private sealed class Lease(FakeGenerationStore store) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            store.LeasesHeld--;
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>Port grains that record what they were asked, and fail as told.</summary>
public sealed class FakeRegistryStaging : IRegistryStaging
{
    public ConcurrentDictionary<int, int> StageCalls { get; } = new();

    public ConcurrentBag<long[]> AbortedSeen { get; } = [];

    public ConcurrentBag<int> VerdictsRefreshed { get; } = [];

    /// <summary>Per port, what its nth stage call throws (null: succeeds).</summary>
    public Func<int, int, Exception?> Failure { get; set; } = (_, _) => null;

    public Task StageAsync(int port, long generation, long[] abortedGenerations, byte[] timelines)
    {
        var call = StageCalls.AddOrUpdate(port, 1, (_, n) => n + 1);
        AbortedSeen.Add(abortedGenerations);
        return Failure(port, call) is { } failure ? Task.FromException(failure) : Task.CompletedTask;
    }

    public Task RefreshVerdictsAsync(int port, long generation)
    {
        VerdictsRefreshed.Add(port);
        return Task.CompletedTask;
    }
}

public sealed class FakeCatalog : ICatalogRefresh
{
    public int Refreshes { get; private set; }

    public Task RefreshAsync(CancellationToken cancellationToken)
    {
        Refreshes++;
        return Task.CompletedTask;
    }
}

/// <summary>An importer over the fakes: a lifecycle with its history derivation, and the rebuild that uses it.</summary>
public sealed class FakeImporter
{
    public FakeImporter(FakeEditionStore editions)
    {
        Editions = editions;
        Generations = new FakeGenerationStore(editions);
        var progress = new ImportProgressHub(new PortHistory.Server.Application.Telemetry.PortHistoryMetrics());
        var staging = new PortStaging(Grains, progress, Microsoft.Extensions.Options.Options.Create(new PortHistory.Server.Application.Configuration.ImportOptions()),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<PortStaging>.Instance);
        var derivation = new HistoryDerivation(editions, Generations, new ParsedEditions(), new HistoryCache(),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<HistoryDerivation>.Instance);
        Lifecycle = new GenerationLifecycle(editions, Generations, derivation, staging, Grains, new FakeCatalog(),
            new ObservedPorts(_ => Task.FromResult<IReadOnlyList<int>>([])), progress, new PortHistory.Server.Application.Telemetry.PortHistoryMetrics(),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<GenerationLifecycle>.Instance);
        Rebuild = new HistoryRebuild(editions, Lifecycle, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<HistoryRebuild>.Instance);
    }

    public FakeEditionStore Editions { get; }

    public FakeGenerationStore Generations { get; }

    public FakeRegistryStaging Grains { get; } = new();

    public GenerationLifecycle Lifecycle { get; }

    public HistoryRebuild Rebuild { get; }

    /// <summary>An edition of the rows received, recorded as its parser read it, and applied in a generation.</summary>
    public async Task ImportAsync(string id, DateOnly date, params (string, int, string)[] rows)
    {
        var content = TestEditions.Csv(rows);
        var parsed = TestEditions.Parsed(id, date, content);
        await Editions.AddPendingAsync(parsed, content, null, CancellationToken.None);
        var i = Editions.Editions.FindIndex(e => e.Id == id);
        Editions.Editions[i] = Editions.Editions[i] with { Records = parsed.Records.Length, ParseDigest = ParseDigest.Of(parsed) };
        await Lifecycle.ApplyPendingAsync(CancellationToken.None);
    }
}
