using System.Globalization;

namespace PortHistory.Agent.Scanning;

/// <summary>
/// Reads of /proc entries that may fail for ordinary reasons: the process exited, or belongs to another user and the
/// agent is unprivileged. Such failures give null; the scan goes on with what it could see.
/// </summary>
public static class ProcFs
{
    public static string? TryReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Enough of a command line for any program name; the rest (long classpaths, many arguments) is not needed.</summary>
    public const int CommandLineBytes = 64 * 1024;

    /// <summary>/proc/[pid]/cmdline read up to <see cref="CommandLineBytes"/>; null when it cannot be read.</summary>
    public static IReadOnlyList<string>? TryReadCommandLine(string path)
    {
        try
        {
            // procfs files report no length: read until the end or the cap.
            using var stream = File.OpenRead(path);
            var buffer = new byte[CommandLineBytes];
            var total = 0;
            int read;
            while (total < buffer.Length && (read = stream.Read(buffer, total, buffer.Length - total)) > 0) total += read;
            // An argument cut by the cap is partial: it ends at the last NUL read.
            if (total == buffer.Length) total = Array.LastIndexOf(buffer, (byte)0, total - 1) + 1;
            return CommandLine(System.Text.Encoding.UTF8.GetString(buffer, 0, total));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// The arguments of a cmdline text, each ended by a NUL. Empty for a kernel thread or a zombie. A process that
    /// rewrote its title may leave one argument without the final NUL, or with spaces: kept as it is.
    /// </summary>
    public static IReadOnlyList<string> CommandLine(string? text)
    {
        if (string.IsNullOrEmpty(text)) return [];
        var args = text.Split('\0');
        return text.EndsWith('\0') ? args[..^1] : args;
    }

    public static string? TryReadLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The effective uid: the second field of the "Uid:" line of /proc/[pid]/status (real, effective, saved, fs).</summary>
    public static uint? EffectiveUid(string? statusText)
    {
        if (statusText is null) return null;
        foreach (var line in statusText.Split('\n'))
        {
            if (!line.StartsWith("Uid:", StringComparison.Ordinal)) continue;
            var fields = line["Uid:".Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            return fields.Length >= 2 && uint.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var uid) ? uid : null;
        }

        return null;
    }

    /// <summary>The effective capability set: the hex "CapEff:" line of /proc/[pid]/status.</summary>
    public static ulong? EffectiveCapabilities(string? statusText)
    {
        if (statusText is null) return null;
        foreach (var line in statusText.Split('\n'))
        {
            if (!line.StartsWith("CapEff:", StringComparison.Ordinal)) continue;
            return ulong.TryParse(line.AsSpan("CapEff:".Length).Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var set) ? set : null;
        }

        return null;
    }

    /// <summary>"socket:[12345]" → 12345; anything else (files, pipes, anon inodes) → null.</summary>
    public static ulong? SocketInode(string? linkTarget)
    {
        const string prefix = "socket:[";
        if (linkTarget is null || !linkTarget.StartsWith(prefix, StringComparison.Ordinal) || !linkTarget.EndsWith(']')) return null;
        return ulong.TryParse(linkTarget.AsSpan(prefix.Length, linkTarget.Length - prefix.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture,
            out var inode) ? inode : null;
    }
}

/// <summary>uid → user name from /etc/passwd.</summary>
public static class UserNames
{
    public static IReadOnlyDictionary<uint, string> Parse(string passwdText)
    {
        var names = new Dictionary<uint, string>();
        foreach (var line in passwdText.Split('\n'))
        {
            // name:password:uid:gid:gecos:home:shell
            var fields = line.Split(':');
            if (fields.Length < 3 || fields[0].Length == 0 || line.StartsWith('#')) continue;
            if (uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var uid)) names.TryAdd(uid, fields[0]);
        }

        return names;
    }

    public static IReadOnlyDictionary<uint, string> Load(string path) => ProcFs.TryReadText(path) is { } text ? Parse(text) : new Dictionary<uint, string>();

    /// <summary>The name, or the number when /etc/passwd does not know the uid (e.g. a container's user).</summary>
    public static string NameOf(this IReadOnlyDictionary<uint, string> names, uint uid) =>
        names.TryGetValue(uid, out var name) ? name : uid.ToString(CultureInfo.InvariantCulture);
}
