using PortHistory.Agent.Spool;
using static PortHistory.Agent.Tests.TestSpoolDirectory;

namespace PortHistory.Agent.Tests;

/// <summary>The spool after damage on disk: torn writes, flipped bytes, records damaged after opening.</summary>
public sealed class SightingSpoolDamageTests : IDisposable
{
    private readonly TestSpoolDirectory _spool = new();

    public void Dispose() => _spool.Dispose();

    private SightingSpool Open(long maxBytes = 1024 * 1024) => _spool.Open(maxBytes);

    private string[] Segments() => _spool.Segments();

    private long SegmentBytes() => _spool.SegmentBytes();

    [Fact]
    public void A_torn_last_record_is_cut_off_and_counted_and_appending_goes_on_after_the_last_good_one()
    {
        using (var spool = Open())
        {
            for (var id = 0; id < 4; id++) spool.Append(SpoolRecordKind.FullBatch, Payload(id));
        }

        var segment = Segments().Single();
        using (var file = new FileStream(segment, FileMode.Open))
        {
            // A crash in the middle of the last write: part of its payload never reached the disk.
            file.SetLength(file.Length - 30);
        }

        using (var spool = Open())
        {
            Assert.Equal(new SpoolFigures(3, SegmentBytes(), 0, 1, 0), spool.Figures);
            spool.Append(SpoolRecordKind.FullBatch, Payload(9));
        }

        using (var spool = Open())
        {
            Assert.Equal([Payload(0), Payload(1), Payload(2), Payload(9)], DrainAll(spool));
            // Counted once, however often the spool is opened.
            Assert.Equal(1, spool.Figures.CorruptRecords);
        }
    }

    [Theory]
    [InlineData(10)] // the payload's checksum field
    [InlineData(6)] // the length: the header's own checksum catches it, and reading finds the next record
    [InlineData(60)] // the payload
    public void A_record_with_flipped_bytes_in_the_middle_is_skipped_and_counted_and_the_others_are_delivered(int offsetInRecord)
    {
        using (var spool = Open())
        {
            for (var id = 0; id < 5; id++) spool.Append(SpoolRecordKind.FullBatch, Payload(id));
        }

        var segment = Segments().Single();
        var bytes = File.ReadAllBytes(segment);
        var recordSize = RecordFrame.HeaderBytes + 100;
        bytes[(2 * recordSize) + offsetInRecord] ^= 0xFF;
        bytes[(2 * recordSize) + offsetInRecord + 1] ^= 0x5A;
        File.WriteAllBytes(segment, bytes);

        for (var reopening = 0; reopening < 2; reopening++)
        {
            using var spool = Open();
            Assert.Equal(new SpoolFigures(4, SegmentBytes(), 0, 1, 0), spool.Figures);
        }

        using (var spool = Open())
        {
            Assert.Equal([Payload(0), Payload(1), Payload(3), Payload(4)], DrainAll(spool));
            Assert.Equal(1, spool.Figures.CorruptRecords);
        }
    }

    [Fact]
    public void Damage_found_after_opening_is_skipped_and_counted_when_the_record_is_read()
    {
        using var spool = Open();
        for (var id = 0; id < 3; id++) spool.Append(SpoolRecordKind.FullBatch, Payload(id));
        var segment = Segments().Single();
        using (var file = new FileStream(segment, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            file.Position = RecordFrame.HeaderBytes + 50;
            file.WriteByte(0);
            file.WriteByte(0xFF);
        }

        Assert.Equal([Payload(1), Payload(2)], DrainAll(spool));
        Assert.Equal(1, spool.Figures.CorruptRecords);
    }
}
