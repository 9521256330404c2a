using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Import;
using PortHistory.Server.Application.Telemetry;

namespace PortHistory.Server.Application.Tests.Import;

public sealed class PortStagingTests
{
    [Fact]
    public async Task Ports_finishing_together_reach_a_watcher_as_counts_that_only_go_up()
    {
        var progress = new ImportProgressHub(new PortHistoryMetrics());
        var staging = new PortStaging(new YieldingStaging(), progress, Options.Create(new ImportOptions { StagingConcurrency = 16 }),
            NullLogger<PortStaging>.Instance);
        // Under 50 ports every port's completion is published, so that two publish at the same moment often.
        var ports = Enumerable.Range(0, 40).ToArray();
        using var watch = progress.Follow("edition");

        for (var round = 0; round < 500; round++)
        {
            await staging.StageAsync(round + 1, [], new byte[ports.Length][], ports, ["edition"], CancellationToken.None);
        }

        var counts = new List<(long Generation, int Done)>();
        while (watch.Events.Reader.TryRead(out var e)) counts.Add((e.Generation, e.Done));
        Assert.Equal(500 * ports.Length, counts.Count);
        Assert.All(counts.GroupBy(c => c.Generation), generation =>
            Assert.Equal(Enumerable.Range(1, ports.Length), generation.Select(c => c.Done)));
    }

    /// <summary>Each port finishes on a pool thread of its own, so that many finish at the same moment.</summary>
    private sealed class YieldingStaging : IRegistryStaging
    {
        public async Task StageAsync(int port, long generation, long[] abortedGenerations, byte[] timelines) => await Task.Yield();

        public Task RefreshVerdictsAsync(int port, long generation) => Task.CompletedTask;
    }
}
