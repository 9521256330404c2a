using CsCheck;
using PortHistory.Agent.Health;
using PortHistory.Agent.Spool;

namespace PortHistory.Agent.Tests;

public sealed class AgentStatusTests
{
    private static readonly Gen<DateTimeOffset?> Time = Gen.Frequency(
        (1, Gen.Const((DateTimeOffset?)null)),
        (4, Gen.Long[1, 4_102_444_800_000].Select(ms => (DateTimeOffset?)DateTimeOffset.FromUnixTimeMilliseconds(ms))));

    private static readonly Gen<long> Count = Gen.Long[0, 1L << 50];

    [Fact]
    public void The_figures_read_back_as_written() =>
        Gen.Select(Time, Time, Gen.Select(Count, Count, Count, Count, Count))
            .Sample((scan, ack, counts) =>
            {
                var status = new AgentStatus(scan, ack, new SpoolFigures(counts.Item1, counts.Item2, counts.Item3, counts.Item4, counts.Item5));

                Assert.Equal(status, AgentStatus.Parse(status.ToPrometheusText()));
            }, iter: 1_000);

    [Theory]
    [InlineData("")]
    [InlineData("porthistory_agent_spool_records 1\n")]
    [InlineData("garbage\n\u0000\u00ff")]
    public void Text_without_every_figure_is_not_a_status(string text) => Assert.Null(AgentStatus.Parse(text));

    [Fact]
    public void A_negative_or_unreadable_figure_is_not_a_status()
    {
        var text = new AgentStatus(null, null, new SpoolFigures(1, 2, 3, 4, 5)).ToPrometheusText();

        Assert.Null(AgentStatus.Parse(text.Replace("porthistory_agent_spool_records 1", "porthistory_agent_spool_records -1", StringComparison.Ordinal)));
        Assert.Null(AgentStatus.Parse(text.Replace("porthistory_agent_spool_bytes 2", "porthistory_agent_spool_bytes NaN", StringComparison.Ordinal)));
    }
}
