using System.Text;
using PortHistory.Agent.Spool;

namespace PortHistory.Agent.Tests;

/// <summary>A spool in a throwaway directory, and what spool tests need to fill, drain and look at it.</summary>
public sealed class TestSpoolDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("porthistory-agent-spool-").FullName;

    public StringWriter Log { get; } = new();

    public void Dispose() => Directory.Delete(Path, recursive: true);

    public SightingSpool Open(long maxBytes = 1024 * 1024) => SightingSpool.Open(Path, maxBytes, Log);

    public string[] Segments() => [.. Directory.GetFiles(Path, "*.seg").Order(StringComparer.Ordinal)];

    public long SegmentBytes() => Segments().Sum(path => new FileInfo(path).Length);

    /// <summary>Distinct, recognisable bytes for record <paramref name="id"/>.</summary>
    public static byte[] Payload(int id, int size = 100)
    {
        var bytes = new byte[size];
        new Random(id).NextBytes(bytes);
        Encoding.ASCII.GetBytes($"record-{id:D6}").CopyTo(bytes, 0);
        return bytes;
    }

    /// <summary>Reads and acknowledges every record, oldest first.</summary>
    public static List<byte[]> DrainAll(SightingSpool spool)
    {
        var read = new List<byte[]>();
        while (spool.Peek() is { } entry)
        {
            read.Add(entry.Payload);
            Assert.True(spool.Acknowledge(entry));
        }

        return read;
    }
}
