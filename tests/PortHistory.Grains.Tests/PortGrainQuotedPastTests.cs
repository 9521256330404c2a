using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Tests.Support;

namespace PortHistory.Grains.Tests;

/// <summary>
/// Verdict reasons quote the port's observed past in every answer the grain gives: the common answer the gateway keeps,
/// a transport's answer and the observed view alike, with the past read once rather than for every answer.
/// </summary>
[Collection(PortGrainCollection.Name)]
public sealed class PortGrainQuotedPastTests(PortGrainCluster fixture)
{
    private static readonly DateTime At = new(2026, 5, 1, 12, 0, 0, DateTimeKind.Utc);
    private static readonly PortQuery Newest = new(Transport.Unspecified, null);

    [Fact]
    public async Task Every_answer_quotes_the_past_read_once()
    {
        const int port = 3201;
        var grain = await ObservedAsync(port);

        var common = (await grain.GetPortAsync(Newest)).Value;
        var udp = (await grain.GetPortAsync(new PortQuery(Transport.Udp, null))).Value;
        var observed = (await grain.GetObservedAsync(Transport.Unspecified, false)).Value;
        var again = (await grain.GetPortAsync(Newest)).Value;

        foreach (var verdicts in new[] { common.Verdicts, udp.Verdicts, observed.Verdicts, again.Verdicts })
        {
            Assert.EndsWith($"; past of {port}", Assert.Single(verdicts, v => v.ObservedProcesses.Contains("myapp")).Reason, StringComparison.Ordinal);
        }

        Assert.Equal(1, PortGrainCluster.History.Reads[port]);
    }

    [Theory]
    [InlineData(3202, false)]
    [InlineData(3203, true)]
    public async Task A_past_that_cannot_be_read_leaves_the_reasons_as_judged_and_is_not_asked_again_at_once(int port, bool throws)
    {
        (throws ? PortGrainCluster.History.Throwing : PortGrainCluster.History.Unreadable)[port] = true;
        var grain = await ObservedAsync(port);

        var first = (await grain.GetPortAsync(new PortQuery(Transport.Udp, null))).Value;
        var second = (await grain.GetObservedAsync(Transport.Udp, false)).Value;

        foreach (var verdicts in new[] { first.Verdicts, second.Verdicts })
        {
            Assert.DoesNotContain("past of", Assert.Single(verdicts, v => v.ObservedProcesses.Contains("myapp")).Reason, StringComparison.Ordinal);
        }

        Assert.Equal(1, PortGrainCluster.History.Reads[port]);
    }

    /// <summary>Four hosts run myapp on the port's udp: a verdict that names it.</summary>
    private async Task<IPortGrain> ObservedAsync(int port)
    {
        const int writer = 5;
        var grain = fixture.Cluster.GrainFactory.GetGrain<IPortGrain>(port);
        var hosts = new ListenerScript();
        ObservationEntry[] entries = [.. Enumerable.Range(1, 4).SelectMany(h => hosts.Start(h, "myapp", At))];
        PortGrainCluster.Journal.Append(port, writer, entries);
        await grain.ObserveAsync(new([new ObservationDelta(writer, 0, entries)]));
        return grain;
    }
}
