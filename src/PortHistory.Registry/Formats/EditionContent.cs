using System.Security.Cryptography;
using System.Text;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.Formats;

/// <summary>The raw bytes of one edition file and where they came from.</summary>
public sealed class EditionContent
{
    private string? _sha256;

    public EditionContent(ReadOnlyMemory<byte> bytes, string sourceName, DateTimeOffset? lastModified = null)
    {
        Bytes = bytes;
        SourceName = sourceName;
        LastModified = lastModified;
    }

    public ReadOnlyMemory<byte> Bytes { get; }
    public string SourceName { get; }

    /// <summary>File modification time, the date of last resort for local editions.</summary>
    public DateTimeOffset? LastModified { get; }

    public string Sha256 => _sha256 ??= Convert.ToHexStringLower(SHA256.HashData(Bytes.Span));

    public static EditionContent FromFile(string path) =>
        new(File.ReadAllBytes(path), path, File.GetLastWriteTimeUtc(path));

    public EditionFormatException Error(int? line, string reason) => new(SourceName, line, null, reason);

    public EditionFormatException ErrorAt(long byteOffset, string reason) => new(SourceName, null, byteOffset, reason);

    /// <summary>Fails on content that is not text at all (NUL or many control bytes), naming the first bad byte.</summary>
    public void RejectBinary()
    {
        var span = Bytes.Span;
        if (span.IsEmpty) throw Error(null, "the file is empty");
        var controls = 0;
        var probe = Math.Min(span.Length, 64 * 1024);
        for (var i = 0; i < probe; i++)
        {
            var b = span[i];
            if (b == 0) throw ErrorAt(i, "binary content (NUL byte); not a registry edition");
            if (b < 0x20 && b is not ((byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0C)) controls++;
        }

        if (controls > probe / 100 + 8) throw ErrorAt(0, $"binary content ({controls} control bytes in the first {probe}); not a registry edition");
    }

    /// <summary>
    /// Decodes as UTF-8 when the bytes are valid UTF-8, else as Latin-1 (the 2005 and 2006 text editions carry a
    /// few Latin-1/CP1252 bytes in names); a warning records which lines were affected.
    /// </summary>
    public string DecodeText(ICollection<EditionParseWarning> warnings)
    {
        var span = Bytes.Span;
        if (span.StartsWith(Encoding.UTF8.Preamble)) span = span[Encoding.UTF8.Preamble.Length..];
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(span);
        }
        catch (DecoderFallbackException)
        {
            var text = Encoding.Latin1.GetString(span);
            var lines = new List<int>();
            var lineNumber = 1;
            var lineStart = 0;
            for (var i = 0; i <= span.Length; i++)
            {
                if (i == span.Length || span[i] == (byte)'\n')
                {
                    if (!IsUtf8(span[lineStart..i])) lines.Add(lineNumber);
                    lineNumber++;
                    lineStart = i + 1;
                }
            }

            warnings.Add(new EditionParseWarning(lines.FirstOrDefault(), $"not valid UTF-8; decoded as Latin-1 (lines {string.Join(", ", lines.Take(20))}{(lines.Count > 20 ? ", …" : "")})"));
            return text;
        }
    }

    private static bool IsUtf8(ReadOnlySpan<byte> bytes) => System.Text.Unicode.Utf8.IsValid(bytes);
}
