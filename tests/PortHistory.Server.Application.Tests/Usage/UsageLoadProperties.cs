using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;
using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Hosts;
using PortHistory.Server.Application.Usage;

namespace PortHistory.Server.Application.Tests.Usage;

/// <summary>Bulk load rows from the wire: every generated row is either taken or refused with its line and field, never thrown on; one load at a time.</summary>
public sealed class UsageLoadProperties
{
    private static readonly DateOnly Today = new(2026, 12, 6);

    private static readonly Gen<string> DayGen = Gen.OneOf(
        Gen.Int[-400, 25_000].Select(d => Today.AddDays(-d).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)),
        Gen.Const(""), Gen.Const("2024-02-30"), Gen.Const("0001-01-01"), Gen.Const("24-1-1"), Gen.String[0, 12]);

    private static readonly Gen<UsageRow> RowGen = Gen.Select(DayGen, Gen.Frequency((8, Gen.UInt[0, 65535]), (1, Gen.UInt)), Gen.Int[-1, 6],
        Gen.OneOf(Gen.Const("rpc.statd"), Gen.Const(""), Gen.Const("a\u202Eb"), Gen.Const("x\0y"), Gen.String[0, 300]),
        Gen.Frequency((6, Gen.UInt[0, 100]), (1, Gen.UInt)), Gen.Frequency((6, Gen.UInt[0, 100]), (1, Gen.UInt)), Gen.Bool,
        (day, port, transport, process, hosts, reachable, hasPort) =>
        {
            var row = new UsageRow { Day = day, Transport = (Transport)transport, ProcessName = process, Hosts = hosts, Reachable = reachable };
            if (hasPort) row.Port = port;
            return row;
        });

    [Fact]
    public void Every_row_is_taken_or_refused_once_and_what_is_taken_is_exactly_what_was_sent()
    {
        RowGen.Array[1, 60].Sample(rows =>
        {
            var load = new UsageLoad(Today);
            Assert.True(load.Add(rows));
            Assert.Equal(rows.Length, load.Rows + load.Errors.Count);
            Assert.All(load.Errors, e => Assert.InRange(e.Line, 1ul, (ulong)rows.Length));
            Assert.Equal(load.Errors.Count, load.Errors.Select(e => e.Line).Distinct().Count());
            var taken = rows.Where((_, i) => load.Errors.All(e => e.Line != (ulong)i + 1)).ToList();
            Assert.All(taken, r => Assert.True(r.HasPort && r.Port <= 65535 && r.Transport is > Transport.Unspecified and <= Transport.Dccp && r.Reachable <= r.Hosts
                                                && DateOnly.ParseExact(r.Day, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) is var d && d <= Today && d >= UsageLoad.FirstDay));
            Assert.Equal(taken.Sum(r => (long)r.Hosts), load.Series.Values.Sum(s => s.Values.Sum(v => (long)v.Hosts)));
        });
    }

    [Fact]
    public void One_load_runs_at_a_time_and_the_next_may_start_once_it_is_done()
    {
        var loader = new UsageLoader(new NoProcesses(), new NoStore(), NullLogger<UsageLoader>.Instance);
        var first = loader.TryBegin(Today);
        Assert.NotNull(first);
        Assert.Null(loader.TryBegin(Today));
        first.Dispose();
        first.Dispose();
        using var second = loader.TryBegin(Today);
        Assert.NotNull(second);
        Assert.Null(loader.TryBegin(Today));
    }

    private sealed class NoProcesses : IProcessDictionary
    {
        public ValueTask<int[]> IdsAsync(IReadOnlyList<ProcessKey> processes, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<ProcessKey[]> KeysAsync(IReadOnlyList<int> ids, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    private sealed class NoStore : IUsageLoadStore
    {
        public Task AddAsync(IReadOnlyList<UsageDelta> deltas, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
