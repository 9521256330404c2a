using System.Net;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Access;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Notifications;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Application.Tests.Access;

/// <summary>
/// Token checks: revocations evict exactly the revoked tokens, known tokens stay cached for minutes, and neither a
/// flood of unknown tokens nor an address that keeps failing makes a known token's check wait.
/// </summary>
public sealed class TokenValidatorTests
{
    private static readonly IPAddress Honest = IPAddress.Parse("192.0.2.10");
    private static readonly IPAddress Hostile = IPAddress.Parse("198.51.100.7");

    private readonly FakeAccessTokenStore _store = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly TokenValidator _validator;
    private readonly AccessTokens _tokens;

    public TokenValidatorTests()
    {
        _validator = new TokenValidator(_store, new FailedAuthenticationLimiter(Options.Create(new RateLimitOptions { FailedAuthenticationBurst = 5, FailedAuthenticationsPerMinute = 1 })),
            Options.Create(new EnrollmentOptions()), new PortHistoryMetrics(), _time, NullLogger<TokenValidator>.Instance);
        _tokens = new AccessTokens(_store, _validator, NullLogger<AccessTokens>.Instance);
    }

    [Fact]
    public async Task Revoking_a_token_evicts_it_alone_here_and_names_it_to_the_other_silos()
    {
        var (kept, keptSecret) = await _tokens.IssueAsync("kept", Role.Reader, CancellationToken.None);
        var (revoked, revokedSecret) = await _tokens.IssueAsync("revoked", Role.Reader, CancellationToken.None);
        Assert.NotNull(await _validator.ValidateAsync(keptSecret, Honest, CancellationToken.None));
        Assert.NotNull(await _validator.ValidateAsync(revokedSecret, Honest, CancellationToken.None));
        var lookups = _store.Lookups;

        await _tokens.RevokeAsync(revoked.TokenId, CancellationToken.None);

        Assert.Null(await _validator.ValidateAsync(revokedSecret, Honest, CancellationToken.None));
        var check = _validator.ValidateAsync(keptSecret, Honest, CancellationToken.None);
        Assert.True(check.IsCompletedSuccessfully, "a kept token is answered from the cache");
        Assert.Equal(kept.TokenId, (await check)!.TokenId);
        Assert.Equal(lookups + 1, _store.Lookups);
        Assert.Equal([revoked.TokenId], Assert.Single(_store.Notified));
    }

    [Fact]
    public async Task A_notification_evicts_the_tokens_it_names_and_an_empty_one_evicts_all()
    {
        var (a, aSecret) = await _tokens.IssueAsync("a", Role.Reader, CancellationToken.None);
        var (_, bSecret) = await _tokens.IssueAsync("b", Role.Reader, CancellationToken.None);
        await _validator.ValidateAsync(aSecret, Honest, CancellationToken.None);
        await _validator.ValidateAsync(bSecret, Honest, CancellationToken.None);
        INotificationHandler handler = _validator;

        await handler.OnNotifiedAsync([a.TokenId], CancellationToken.None);
        await _validator.ValidateAsync(aSecret, Honest, CancellationToken.None);
        await _validator.ValidateAsync(bSecret, Honest, CancellationToken.None);
        Assert.Equal(3, _store.Lookups);
        var lookups = _store.Lookups;

        await handler.OnNotifiedAsync([""], CancellationToken.None);
        await _validator.ValidateAsync(bSecret, Honest, CancellationToken.None);
        Assert.Equal(lookups + 1, _store.Lookups);
    }

    [Fact]
    public async Task A_known_token_is_looked_up_again_only_after_ten_minutes()
    {
        var (_, secret) = await _tokens.IssueAsync("agent", Role.Agent, CancellationToken.None);
        await _validator.ValidateAsync(secret, Honest, CancellationToken.None);

        _time.Advance(TimeSpan.FromMinutes(9));
        await _validator.ValidateAsync(secret, Honest, CancellationToken.None);
        Assert.Equal(1, _store.Lookups);

        _time.Advance(TimeSpan.FromMinutes(2));
        await _validator.ValidateAsync(secret, Honest, CancellationToken.None);
        Assert.Equal(2, _store.Lookups);
    }

    [Fact]
    public async Task An_address_that_failed_too_often_gets_no_lookups_while_others_and_known_tokens_go_on()
    {
        var (_, honestSecret) = await _tokens.IssueAsync("honest", Role.Reader, CancellationToken.None);
        await _validator.ValidateAsync(honestSecret, Hostile, CancellationToken.None);
        // Malformed and repeated secrets cost no lookup and nothing of the budget; four made-up ones spend the rest of it.
        for (var i = 0; i < 50; i++) Assert.Null(await _validator.ValidateAsync("ph_short", Hostile, CancellationToken.None));
        for (var i = 0; i < 4; i++) Assert.Null(await _validator.ValidateAsync(TokenSecrets.NewSecret(), Hostile, CancellationToken.None));
        var lookups = _store.Lookups;

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await _validator.ValidateAsync(TokenSecrets.NewSecret(), Hostile, CancellationToken.None));

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.InRange(int.Parse(refused.Trailers.GetValue("retry-after-ms")!, System.Globalization.CultureInfo.InvariantCulture), 1, 60_000);
        Assert.Equal(lookups, _store.Lookups);
        // The same address's known token, and unknown ones from elsewhere, are still answered.
        Assert.True(_validator.ValidateAsync(honestSecret, Hostile, CancellationToken.None).IsCompletedSuccessfully);
        Assert.Null(await _validator.ValidateAsync(TokenSecrets.NewSecret(), Honest, CancellationToken.None));
        Assert.Equal(lookups + 1, _store.Lookups);
    }

    [Fact]
    public async Task A_flood_of_unknown_tokens_is_refused_at_once_beyond_the_lookup_queue_and_known_tokens_never_wait()
    {
        var validator = new TokenValidator(_store, new FailedAuthenticationLimiter(Options.Create(new RateLimitOptions { FailedAuthenticationBurst = 1_000_000 })),
            Options.Create(new EnrollmentOptions()), new PortHistoryMetrics(), _time, NullLogger<TokenValidator>.Instance);
        var (_, honest) = await _tokens.IssueAsync("honest", Role.Reader, CancellationToken.None);
        await validator.ValidateAsync(honest, Honest, CancellationToken.None);
        // PostgreSQL stops answering: lookups pile up.
        _store.LookupGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiting = Enumerable.Range(0, TokenValidator.LookupsInFlight + TokenValidator.LookupQueue)
            .Select(i => validator.ValidateAsync(TokenSecrets.NewSecret(), IPAddress.Parse($"203.0.113.{i % 250}"), CancellationToken.None).AsTask()).ToList();

        var beyond = validator.ValidateAsync(TokenSecrets.NewSecret(), Hostile, CancellationToken.None);

        Assert.True(beyond.IsCompleted, "a lookup beyond the queue is refused at once, not queued");
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await beyond);
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.NotNull(refused.Trailers.GetValue("retry-after-ms"));
        Assert.Equal(TokenValidator.LookupsInFlight, _store.Lookups - 1);
        Assert.True(validator.ValidateAsync(honest, Honest, CancellationToken.None).IsCompletedSuccessfully, "a known token is answered from the cache meanwhile");

        _store.LookupGate.SetResult();
        Assert.All(await Task.WhenAll(waiting), Assert.Null);
    }
}
