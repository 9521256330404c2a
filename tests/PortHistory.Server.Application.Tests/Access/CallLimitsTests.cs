using CsCheck;
using Grpc.Core;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Access;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Application.Tests.Access;

/// <summary>Calls and watch streams in flight per token: up to the limit, then refused at once; a permit ended frees its place.</summary>
public sealed class CallLimitsTests
{
    private static readonly Principal Reader = new("tok_reader", "reader", Role.Reader);

    private static CallLimits Limits(int calls, int streams = 2) =>
        new(Options.Create(new RateLimitOptions { ConcurrentCallsPerToken = calls }), Options.Create(new WatchOptions { StreamsPerToken = streams }), new PortHistoryMetrics());

    [Fact]
    public void A_token_at_its_limit_is_refused_until_one_of_its_calls_ends_and_other_tokens_are_not_held_up()
    {
        var limits = Limits(calls: 2);
        var first = limits.Enter(Reader);
        using var second = limits.Enter(Reader);

        var refused = Assert.Throws<RpcException>(() => limits.Enter(Reader));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("too many calls in flight: token tok_reader may have 2 at once", refused.Status.Detail);
        using (limits.Enter(Reader with { TokenId = "tok_other" })) { }

        first.Dispose();
        using var third = limits.Enter(Reader);
        Assert.Throws<RpcException>(() => limits.Enter(Reader));
    }

    [Fact]
    public void Watch_streams_have_a_limit_of_their_own_beside_the_calls()
    {
        var limits = Limits(calls: 1, streams: 1);
        using var call = limits.Enter(Reader);
        using var stream = limits.EnterWatch(Reader);

        Assert.Equal(StatusCode.ResourceExhausted, Assert.Throws<RpcException>(() => limits.EnterWatch(Reader)).StatusCode);
        Assert.Equal(StatusCode.ResourceExhausted, Assert.Throws<RpcException>(() => limits.Enter(Reader)).StatusCode);
    }

    [Fact]
    public void The_default_permit_counts_nothing()
    {
        var count = new InFlightCount(1);
        default(CallPermit).Dispose();

        Assert.True(count.TryEnter(out var permit));
        Assert.Equal(1, count.Count);
        permit.Dispose();
        Assert.Equal(0, count.Count);
    }

    [Fact]
    public void Concurrent_calls_never_hold_more_than_the_limit_and_leave_nothing_counted()
    {
        // Threads entering and leaving at once: the places admitted at any moment stay within the limit, every refusal
        // leaves the count as it found it, and when all have ended nothing is counted.
        Gen.Select(Gen.Int[1, 8], Gen.Int[2, 6], Gen.Int[50, 400]).Sample((limit, threads, rounds) =>
        {
            var count = new InFlightCount(limit);
            var inside = 0;
            var most = 0;
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ =>
            {
                for (var i = 0; i < rounds; i++)
                {
                    if (!count.TryEnter(out var permit)) continue;
                    var now = Interlocked.Increment(ref inside);
                    InterlockedMax(ref most, now);
                    Interlocked.Decrement(ref inside);
                    permit.Dispose();
                }
            });
            return count.Count == 0 && most <= limit;
        }, iter: 50);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen)
        {
            var found = Interlocked.CompareExchange(ref target, value, seen);
            if (found == seen) return;
            seen = found;
        }
    }
}
