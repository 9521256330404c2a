namespace PortHistory.Registry.Formats;

/// <summary>
/// The file cannot be read as an edition at all. Names the file, the line (or byte offset) and the reason;
/// nothing of the edition is kept when this is thrown.
/// </summary>
public sealed class EditionFormatException : Exception
{
    public EditionFormatException(string source, int? line, long? byteOffset, string reason, Exception? inner = null)
        : base(Describe(source, line, byteOffset, reason), inner)
    {
        SourceName = source;
        Line = line;
        ByteOffset = byteOffset;
        Reason = reason;
    }

    public string SourceName { get; }
    public int? Line { get; }
    public long? ByteOffset { get; }
    public string Reason { get; }

    private static string Describe(string source, int? line, long? byteOffset, string reason) =>
        (line, byteOffset) switch
        {
            ({ } l, _) => $"{source}:{l}: {reason}",
            (null, { } offset) => $"{source} (byte offset {offset}): {reason}",
            _ => $"{source}: {reason}",
        };
}
