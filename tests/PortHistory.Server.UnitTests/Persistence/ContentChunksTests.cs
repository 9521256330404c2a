using System.Security.Cryptography;
using System.Text;
using PortHistory.Server.Persistence.Registry;

namespace PortHistory.Server.UnitTests.Persistence;

/// <summary>Originals are cut where their content says, so two versions of a file share all chunks but those around what changed.</summary>
public sealed class ContentChunksTests
{
    private static byte[] Registry(int records, Func<int, string?>? description = null) => Encoding.UTF8.GetBytes(string.Concat(
        Enumerable.Range(0, records).Select(i => $"  <record>\n    <name>service-{i}</name>\n    <protocol>tcp</protocol>\n    <number>{i}</number>\n" +
                                                 $"    <description>{description?.Invoke(i) ?? $"Service number {i * 7919 % 10007}"}</description>\n  </record>\n")));

    private static List<string> Chunks(byte[] content)
    {
        var cuts = ContentChunks.Cuts(content);
        var start = 0;
        var hashes = new List<string>();
        foreach (var end in cuts)
        {
            Assert.InRange(end - start, 1, ContentChunks.MaxSize);
            hashes.Add(Convert.ToHexString(SHA256.HashData(content.AsSpan(start, end - start))));
            start = end;
        }

        Assert.Equal(content.Length, cuts[^1]);
        return hashes;
    }

    [Fact]
    public void A_change_in_the_middle_of_a_large_file_leaves_all_chunks_but_one_or_two_the_same()
    {
        var before = Registry(20_000);
        var after = Registry(20_000, i => i == 10_000 ? "A renamed service, with a longer description than before" : null);

        var (old, changed) = (Chunks(before), Chunks(after));

        Assert.True(old.Count > 50, $"{old.Count} chunks");
        Assert.InRange(changed.Except(old).Count(), 1, 2);
    }

    [Fact]
    public void A_chunk_compresses_and_comes_back_byte_for_byte()
    {
        var content = Registry(1000);
        var compressed = ContentChunks.Compress(content);
        var back = new byte[content.Length];

        Assert.True(compressed.Length < content.Length / 4);
        Assert.True(ContentChunks.TryDecompress(compressed, back));
        Assert.Equal(content, back);
        Assert.False(ContentChunks.TryDecompress(compressed, new byte[content.Length - 1]));
    }
}
