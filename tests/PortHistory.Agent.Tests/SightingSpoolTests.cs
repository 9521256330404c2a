using PortHistory.Agent.Spool;
using static PortHistory.Agent.Tests.TestSpoolDirectory;

namespace PortHistory.Agent.Tests;

/// <summary>The spool on a real temp directory: order, durability across reopening, and the byte bound.</summary>
public sealed class SightingSpoolTests : IDisposable
{
    private readonly TestSpoolDirectory _spool = new();

    public void Dispose() => _spool.Dispose();

    private SightingSpool Open(long maxBytes = 1024 * 1024) => _spool.Open(maxBytes);

    private string[] Segments() => _spool.Segments();

    private long SegmentBytes() => _spool.SegmentBytes();

    [Fact]
    public void Records_come_back_oldest_first_and_leave_only_when_acknowledged_even_across_reopening()
    {
        using (var spool = Open())
        {
            for (var id = 0; id < 5; id++) Assert.True(spool.Append(SpoolRecordKind.FullBatch, Payload(id)));
            var first = spool.Peek()!;
            Assert.Equal(Payload(0), first.Payload);
            // Looking is not taking.
            Assert.Equal(Payload(0), spool.Peek()!.Payload);
            Assert.True(spool.Acknowledge(first));
            Assert.False(spool.Acknowledge(first));
        }

        using (var spool = Open())
        {
            Assert.Equal(4, spool.Figures.Records);
            Assert.Equal([.. Enumerable.Range(1, 4).Select(id => Payload(id))], DrainAll(spool));
            Assert.Equal(new SpoolFigures(0, SegmentBytes(), 0, 0, 0), spool.Figures);
        }

        using (var spool = Open()) Assert.Null(spool.Peek());
    }

    [Fact]
    public void Acknowledged_segments_are_deleted_whole()
    {
        // A 64 KiB bound makes 4 KiB segments: 100 records of 1 KiB fill about 25.
        using var spool = Open(SightingSpool.MinBytes);
        for (var id = 0; id < 50; id++) spool.Append(SpoolRecordKind.FullBatch, Payload(id, 1000));
        var before = Segments().Length;

        Assert.Equal(50, DrainAll(spool).Count);

        Assert.True(before > 5, $"{before} segments");
        Assert.Single(Segments());
        Assert.Equal(SegmentBytes(), spool.Figures.Bytes);
    }

    [Fact]
    public void A_second_agent_on_the_same_spool_is_refused()
    {
        using var first = Open();

        var refused = Assert.Throws<IOException>(() => Open());

        Assert.Contains("in use by another agent", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Over_the_bound_the_oldest_records_are_dropped_and_counted_and_the_segments_never_pass_it()
    {
        const long bound = SightingSpool.MinBytes;
        const int appended = 400;
        using (var spool = Open(bound))
        {
            for (var id = 0; id < appended; id++)
            {
                Assert.True(spool.Append(SpoolRecordKind.FullBatch, Payload(id, 300 + (id % 7 * 50))));
                Assert.True(SegmentBytes() <= bound, $"{SegmentBytes()} bytes on disk after record {id}");
                Assert.Equal(SegmentBytes(), spool.Figures.Bytes);
            }
        }

        using (var spool = Open(bound))
        {
            var figures = spool.Figures;
            var left = DrainAll(spool);
            // What is left is the newest records, in order; everything older was dropped and counted.
            Assert.InRange(left.Count, 100, appended - 1);
            Assert.Equal([.. Enumerable.Range(appended - left.Count, left.Count).Select(id => Payload(id, 300 + (id % 7 * 50)))], left);
            Assert.Equal(appended - left.Count, figures.DroppedRecords);
            Assert.Equal(0, figures.CorruptRecords);
        }
    }

    [Fact]
    public void A_record_larger_than_the_bound_is_not_written_and_counts_as_dropped()
    {
        using var spool = Open(SightingSpool.MinBytes);
        spool.Append(SpoolRecordKind.FullBatch, Payload(1));

        Assert.False(spool.Append(SpoolRecordKind.FullBatch, new byte[SightingSpool.MinBytes]));

        Assert.Equal((1, 1), (spool.Figures.Records, spool.Figures.DroppedRecords));
        Assert.Equal(Payload(1), spool.Peek()!.Payload);
    }
}
