using System.Globalization;

namespace PortHistory.Agent.Spool;

/// <summary>
/// The spool's directory: created readable by the agent's user only and locked by one agent at a time; its segment
/// files named ("00000000000000000001.seg"), listed and read back.
/// </summary>
internal static class SpoolDirectory
{
    private const string Suffix = ".seg";
    private const int NameDigits = 20;
    private const string LockFileName = "lock";

    /// <summary>Creates the directory if needed and takes its lock, held as long as the returned file is open.</summary>
    /// <exception cref="IOException">Another process holds the spool, or the directory cannot be used.</exception>
    public static FileStream CreateAndLock(string directory)
    {
        // Host data: readable by the agent's user only.
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(directory);
        else Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            // FileShare.None takes an exclusive advisory lock: a second agent on the same spool would send its batches twice.
            return new FileStream(Path.Combine(directory, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"the spool {directory} is in use by another agent ({e.Message})", e);
        }
    }

    public static string PathOf(string directory, long sequence) =>
        Path.Combine(directory, sequence.ToString(CultureInfo.InvariantCulture).PadLeft(NameDigits, '0') + Suffix);

    /// <summary>The segments in the directory, oldest first; files that are not named like one are left alone.</summary>
    public static List<(string Path, long Sequence)> List(string directory) =>
    [
        .. Directory.EnumerateFiles(directory, "*" + Suffix)
            .Select(path => (Path: path, Sequence: SequenceOf(Path.GetFileName(path))))
            .Where(segment => segment.Sequence is not null)
            .Select(segment => (segment.Path, segment.Sequence!.Value))
            .OrderBy(segment => segment.Value),
    ];

    /// <summary>The record's payload, or null when it cannot be read or no longer matches its checksum.</summary>
    public static byte[]? ReadPayload(string directory, RecordLocation record)
    {
        try
        {
            using var handle = File.OpenHandle(PathOf(directory, record.Start.Segment));
            var payload = new byte[record.Length];
            var read = 0;
            while (read < payload.Length)
            {
                var n = RandomAccess.Read(handle, payload.AsSpan(read), record.Start.Offset + RecordFrame.HeaderBytes + read);
                if (n == 0) return null;
                read += n;
            }

            return RecordFrame.PayloadIntact(payload, record.PayloadCrc) ? payload : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static string Describe(SpoolPosition position) =>
        string.Create(CultureInfo.InvariantCulture, $"segment {position.Segment} offset {position.Offset}");

    private static long? SequenceOf(string fileName)
    {
        if (fileName.Length != NameDigits + Suffix.Length || !fileName.EndsWith(Suffix, StringComparison.Ordinal)) return null;
        var digits = fileName.AsSpan(0, NameDigits);
        return digits.ContainsAnyExceptInRange('0', '9') || !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence)
            ? null
            : sequence;
    }
}
