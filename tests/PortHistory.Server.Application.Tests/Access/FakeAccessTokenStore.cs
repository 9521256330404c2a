using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Access;

namespace PortHistory.Server.Application.Tests.Access;

/// <summary>The access tokens in memory, with the store's rules (host lock aside: tests call it one at a time), counting lookups.</summary>
public sealed class FakeAccessTokenStore : IAccessTokenStore
{
    private readonly Lock _gate = new();
    private readonly List<Row> _rows = [];

    public int Lookups;

    /// <summary>When set, every lookup waits for it: lookups in flight pile up.</summary>
    public TaskCompletionSource? LookupGate { get; set; }

    public List<IReadOnlyCollection<string>> Notified { get; } = [];

    public Task<TokenInfo> InsertAsync(NewToken token, CancellationToken cancellationToken) => Task.FromResult(Insert(token));

    public Task<EnrollOutcome> EnrollAsync(NewToken token, bool takeOver, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var live = _rows.Where(r => r.Token.HostRef == token.HostRef && r.RevokedAt is null).ToList();
            if (live.Count > 0 && !takeOver) return Task.FromResult(new EnrollOutcome(null, [], live[^1].Token.Id));
            foreach (var row in live) row.RevokedAt = DateTime.UtcNow;
            return Task.FromResult(new EnrollOutcome(Insert(token), [.. live.Select(r => r.Token.Id)], null));
        }
    }

    public Task<RotateOutcome> RotateAsync(NewToken token, TimeSpan pendingLifetime, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_rows.Any(r => r.Token.Id == token.RotatedFrom && r.RevokedAt is null)) return Task.FromResult(new RotateOutcome(null, null));
            var pending = _rows.FirstOrDefault(r => r.Token.HostRef == token.HostRef && r.RevokedAt is null && r.ReplacesOnUse && r.Created > DateTime.UtcNow - pendingLifetime);
            return Task.FromResult(pending is not null ? new RotateOutcome(null, Info(pending)) : new RotateOutcome(Insert(token), null));
        }
    }

    public Task<TokenInfo?> InsertFirstAdminAsync(NewToken token, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_rows.Any(r => r.Token.Role == Role.Admin && r.RevokedAt is null) ? null : Insert(token));
        }
    }

    public Task<Revocation?> RevokeAsync(string tokenId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var named = _rows.FirstOrDefault(r => r.Token.Id == tokenId);
            if (named is null) return Task.FromResult<Revocation?>(null);
            var chain = new List<Row> { named };
            for (var i = 0; i < chain.Count; i++) chain.AddRange(_rows.Where(r => r.Token.RotatedFrom == chain[i].Token.Id));
            foreach (var row in chain) row.RevokedAt ??= DateTime.UtcNow;
            return Task.FromResult<Revocation?>(new Revocation(Info(named), [.. chain.Select(r => r.Token.Id)]));
        }
    }

    public Task<IReadOnlyList<TokenInfo>> RevokeHostAsync(string hostRef, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var live = _rows.Where(r => r.Token.HostRef == hostRef && r.RevokedAt is null).ToList();
            foreach (var row in live) row.RevokedAt = DateTime.UtcNow;
            return Task.FromResult<IReadOnlyList<TokenInfo>>([.. live.Select(Info)]);
        }
    }

    public Task<IReadOnlyList<TokenInfo>> ListAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<TokenInfo>>([.. _rows.Select(Info)]);
        }
    }

    public async Task<StoredToken?> FindAsync(byte[] hash, TimeSpan pendingLifetime, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Lookups);
        if (LookupGate is { } gate) await gate.Task.WaitAsync(cancellationToken);
        lock (_gate)
        {
            var row = _rows.FirstOrDefault(r => r.Token.Hash.AsSpan().SequenceEqual(hash) && r.RevokedAt is null
                                                && !(r.ReplacesOnUse && r.Created <= DateTime.UtcNow - pendingLifetime));
            return row is null ? null : new StoredToken(new Principal(row.Token.Id, row.Token.Name, row.Token.Role, row.Token.HostRef), row.ReplacesOnUse);
        }
    }

    public Task<TokenInfo?> DescribeAsync(byte[] hash, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_rows.FirstOrDefault(r => r.Token.Hash.AsSpan().SequenceEqual(hash)) is { } row ? Info(row) : null);
        }
    }

    public Task<IReadOnlyList<string>> TakeOverAsync(string tokenId, string hostRef, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var taking = _rows.FirstOrDefault(r => r.Token.Id == tokenId && r.ReplacesOnUse && r.RevokedAt is null);
            if (taking is null) return Task.FromResult<IReadOnlyList<string>>([]);
            taking.ReplacesOnUse = false;
            var others = _rows.Where(r => r.Token.HostRef == hostRef && r != taking && r.RevokedAt is null).ToList();
            foreach (var row in others) row.RevokedAt = DateTime.UtcNow;
            return Task.FromResult<IReadOnlyList<string>>([.. others.Select(r => r.Token.Id)]);
        }
    }

    public Task NotifyRevokedAsync(IReadOnlyCollection<string> tokenIds, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Notified.Add(tokenIds);
        }

        return Task.CompletedTask;
    }

    public Task<int> DeleteRevokedAsync(TimeSpan retention, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_rows.RemoveAll(r => r.Token.HostRef is not null && r.RevokedAt < DateTime.UtcNow - retention));
        }
    }

    /// <summary>Makes the token look <paramref name="age"/> old (an unused rotation past its lifetime, say).</summary>
    public void Age(string tokenId, TimeSpan age)
    {
        lock (_gate)
        {
            _rows.Single(r => r.Token.Id == tokenId).Created -= age;
        }
    }

    private TokenInfo Insert(NewToken token)
    {
        var row = new Row(token) { ReplacesOnUse = token.ReplacesOnUse };
        lock (_gate)
        {
            _rows.Add(row);
        }

        return Info(row);
    }

    private static TokenInfo Info(Row row) => new()
    {
        TokenId = row.Token.Id,
        Name = row.Token.Name,
        Role = row.Token.Role,
        HostRef = row.Token.HostRef ?? "",
        CreatedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(row.Created),
        RevokedAt = row.RevokedAt is { } at ? Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(at) : null,
    };

    private sealed class Row(NewToken token)
    {
        public NewToken Token { get; } = token;

        public DateTime Created { get; set; } = DateTime.UtcNow;

        public DateTime? RevokedAt { get; set; }

        public bool ReplacesOnUse { get; set; }
    }
}
