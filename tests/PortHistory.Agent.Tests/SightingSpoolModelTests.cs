using CsCheck;
using PortHistory.Agent.Spool;
using static PortHistory.Agent.Tests.TestSpoolDirectory;

namespace PortHistory.Agent.Tests;

/// <summary>The spool against a model of what it should hold, over random sequences of operations.</summary>
public sealed class SightingSpoolModelTests
{
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
