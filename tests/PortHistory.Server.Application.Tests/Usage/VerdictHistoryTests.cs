using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Observations;
using PortHistory.Server.Application.Usage;

namespace PortHistory.Server.Application.Tests.Usage;

/// <summary>A verdict's reason says since when its process ran on the port and on how many hosts yesterday, never a count below the privacy floor.</summary>
public sealed class VerdictHistoryTests
{
    private static readonly DateOnly Yesterday = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-1);
    private static readonly DateTime FirstSeen = new(2024, 3, 2, 9, 0, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData(5, "5 hosts yesterday")]
    [InlineData(1, "fewer than 3 hosts yesterday")]
    [InlineData(2, "fewer than 3 hosts yesterday")]
    [InlineData(3, "3 hosts yesterday")]
    public async Task A_squatter_says_since_when_and_how_many_hosts_yesterday(int hosts, string ending)
    {
        var history = new VerdictHistory(new Store(hosts), Options.Create(new VerdictOptions { MinHostsPerProcess = 3 }), NullLogger<VerdictHistory>.Instance);
        var verdict = new Verdict { Transport = Transport.Udp, Kind = VerdictKind.Squatter, Reason = "assigned to wpages", ObservedProcesses = { "rpc.statd" } };

        var past = await history.ReadAsync(776, Yesterday, CancellationToken.None);

        Assert.True(history.Quotes(verdict));
        Assert.Equal($"; rpc.statd on 776/udp since 2024-03-02 (first seen), {ending}", past!.SuffixFor(verdict));
    }

    [Fact]
    public async Task A_verdict_that_names_no_process_quotes_nothing_and_a_failed_read_gives_no_past()
    {
        var history = new VerdictHistory(new Store(5), Options.Create(new VerdictOptions()), NullLogger<VerdictHistory>.Instance);

        Assert.False(history.Quotes(new Verdict { Transport = Transport.Udp, Kind = VerdictKind.Squatter }));
        Assert.False(history.Quotes(new Verdict { Transport = Transport.Udp, Kind = VerdictKind.InsufficientEvidence, ObservedProcesses = { "rpc.statd" } }));
        Assert.Null(await new VerdictHistory(new FailingStore(), Options.Create(new VerdictOptions()), NullLogger<VerdictHistory>.Instance)
            .ReadAsync(776, Yesterday, CancellationToken.None));
    }

    private sealed class FailingStore : IUsageStore
    {
        public Task<UsageRows> ReadAsync(int port, Transport? transport, DateOnly from, DateOnly to, CancellationToken cancellationToken) =>
            Task.FromException<UsageRows>(new TimeoutException("the usage history is slow"));
    }

    /// <summary>rpc.statd (process 7) on 776/udp: <paramref name="hosts"/> hosts started yesterday.</summary>
    private sealed class Store(int hosts) : IUsageStore
    {
        public Task<UsageRows> ReadAsync(int port, Transport? transport, DateOnly from, DateOnly to, CancellationToken cancellationToken) =>
            Task.FromResult(new UsageRows([], [new StoredUsageRow(Transport.Udp, 7, true, Yesterday, hosts, 0)],
                [new StoredLifetime(Transport.Udp, 7, "rpc.statd", "/usr/sbin/rpc.statd", FirstSeen, FirstSeen, null, hosts, Yesterday)],
                new Dictionary<DateOnly, int>(), Yesterday));
    }
}
