using PortHistory.Agent.Scanning;

namespace PortHistory.Agent.Enrolling;

/// <summary>
/// Where a host keeps its own credential: one line, the token. Written to a new file that is readable by its owner only
/// from its first byte, flushed to disk, then renamed over the old one, so that a crash leaves either credential whole,
/// and an agent reading it before every send never sees half of one.
/// </summary>
public static class CredentialFile
{
    public const string DefaultPath = "/var/lib/porthistory-agent/credential";

    /// <summary>Longer than any token a PortHistory server issues, and short enough for a header.</summary>
    public const int MaxLength = 256;

    /// <summary>The stored credential, or null when there is none (or it is unreadable or not shaped like a token).</summary>
    public static string? TryRead(string path) => ProcFs.TryReadText(path)?.Trim() is { } text && IsToken(text) ? text : null;

    /// <summary>A credential as it goes in the authorization header: printable ASCII, no spaces, bounded.</summary>
    public static bool IsToken(string text) => text.Length is > 0 and <= MaxLength && text.All(c => c is > ' ' and < '\x7f');

    public static void Write(string path, string credential)
    {
        if (!IsToken(credential)) throw new ArgumentException("not a credential (printable ASCII without spaces, at most 256 characters)", nameof(credential));
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        if (!OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        else
        {
            Directory.CreateDirectory(directory);
        }

        var temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.new");
        File.Delete(temporary);
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            using (var stream = new FileStream(temporary, create))
            {
                stream.Write(System.Text.Encoding.ASCII.GetBytes(credential + "\n"));
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
