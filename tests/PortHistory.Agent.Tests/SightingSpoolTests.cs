using System.Text;
using CsCheck;
using PortHistory.Agent.Spool;

namespace PortHistory.Agent.Tests;

/// <summary>The spool on a real temp directory: order, durability across reopening, damage, and the byte bound.</summary>
public sealed class SightingSpoolTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("porthistory-agent-spool-").FullName;
    private readonly StringWriter _log = new();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private SightingSpool Open(long maxBytes = 1024 * 1024) => SightingSpool.Open(_directory, maxBytes, _log);

    private static byte[] Payload(int id, int size = 100)
    {
        var bytes = new byte[size];
        new Random(id).NextBytes(bytes);
        Encoding.ASCII.GetBytes($"record-{id:D6}").CopyTo(bytes, 0);
        return bytes;
    }

    private static List<byte[]> DrainAll(SightingSpool spool)
    {
        var read = new List<byte[]>();
        while (spool.Peek() is { } entry)
        {
            read.Add(entry.Payload);
            Assert.True(spool.Acknowledge(entry));
        }

        return read;
    }

    private string[] Segments() => [.. Directory.GetFiles(_directory, "*.seg").Order(StringComparer.Ordinal)];

    private long SegmentBytes() => Segments().Sum(path => new FileInfo(path).Length);

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

    private abstract record Step;

    private sealed record AppendStep(int Size) : Step;

    private sealed record AcknowledgeStep : Step;

    private sealed record ReopenStep : Step;

    /// <summary>Cuts the newest segment at a fraction of its length, as a crash or a full disk might, then reopens.</summary>
    private sealed record TruncateStep(double At) : Step;

    [Fact]
    public void Any_sequence_of_appends_acknowledgements_reopenings_and_truncations_keeps_order_and_invents_nothing()
    {
        var step = Gen.Frequency(
            (6, Gen.Int[16, 600].Select(size => (Step)new AppendStep(size))),
            (4, Gen.Const((Step)new AcknowledgeStep())),
            (1, Gen.Const((Step)new ReopenStep())),
            (1, Gen.Double[0, 1].Select(at => (Step)new TruncateStep(at))));

        step.Array[1, 80].Sample(steps =>
        {
            var directory = Directory.CreateTempSubdirectory("porthistory-agent-spool-property-").FullName;
            try
            {
                CheckAgainstModel(directory, steps);
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        }, iter: 150);
    }

    /// <summary>
    /// The model is the list of records appended and not yet acknowledged. Only a truncation may lose records, and only
    /// the newest ones: what the spool still holds must always be the model's oldest records, in order, byte for byte.
    /// </summary>
    private static void CheckAgainstModel(string directory, Step[] steps)
    {
        var log = new StringWriter();
        var model = new List<byte[]>();
        var nextId = 0;
        var spool = SightingSpool.Open(directory, SightingSpool.MinBytes * 4, log);
        try
        {
            foreach (var step in steps)
            {
                switch (step)
                {
                    case AppendStep append:
                        var payload = Payload(nextId++, append.Size);
                        Assert.True(spool.Append(SpoolRecordKind.FullBatch, payload));
                        model.Add(payload);
                        break;
                    case AcknowledgeStep when spool.Peek() is { } entry:
                        Assert.Equal(model[0], entry.Payload);
                        Assert.True(spool.Acknowledge(entry));
                        model.RemoveAt(0);
                        break;
                    case ReopenStep:
                        spool.Dispose();
                        spool = SightingSpool.Open(directory, SightingSpool.MinBytes * 4, log);
                        break;
                    case TruncateStep truncate:
                        spool.Dispose();
                        if (Directory.GetFiles(directory, "*.seg").Order(StringComparer.Ordinal).LastOrDefault() is { } newest)
                        {
                            using var file = new FileStream(newest, FileMode.Open);
                            file.SetLength((long)(file.Length * truncate.At));
                        }

                        spool = SightingSpool.Open(directory, SightingSpool.MinBytes * 4, log);
                        var kept = (int)spool.Figures.Records;
                        Assert.InRange(kept, 0, model.Count);
                        model.RemoveRange(kept, model.Count - kept);
                        break;
                }

                Assert.Equal(model.Count, spool.Figures.Records);
                Assert.Equal(Directory.GetFiles(directory, "*.seg").Sum(path => new FileInfo(path).Length), spool.Figures.Bytes);
            }

            foreach (var expected in model)
            {
                var entry = spool.Peek();
                Assert.NotNull(entry);
                Assert.Equal(expected, entry.Payload);
                spool.Acknowledge(entry);
            }

            Assert.Null(spool.Peek());
            Assert.Equal(0, spool.Figures.DroppedRecords);
        }
        finally
        {
            spool.Dispose();
        }
    }
}
