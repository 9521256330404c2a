using System.Runtime.InteropServices;

namespace PortHistory.Agent.Spool;

/// <summary>
/// Files replaced whole or not at all: written to a temporary name created exclusively (never through a symbolic link or
/// into a file someone else put there), flushed to disk, then renamed over the old one.
/// </summary>
public static partial class DurableFile
{
    public static void Replace(string path, ReadOnlySpan<byte> content)
    {
        var temporary = path + ".tmp";
        RemoveLeftover(temporary);
        // CreateNew (O_CREAT | O_EXCL) fails on anything already there, a symbolic link included, instead of following it.
        var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        try
        {
            using (file)
            {
                file.Write(content);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }

        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>Makes a rename or a new file in the directory survive a power cut (Linux; elsewhere nothing to do).</summary>
    public static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux()) return;
        var descriptor = Open(directory, 0);
        if (descriptor < 0) return;
        _ = Fsync(descriptor);
        _ = Close(descriptor);
    }

    /// <summary>
    /// A temporary file left by a crash is removed when it is a regular file of this user's; anything else there (a
    /// symbolic link, another user's file) is refused: it was put there by someone else.
    /// </summary>
    private static void RemoveLeftover(string temporary)
    {
        if (!OperatingSystem.IsLinux())
        {
            if (new FileInfo(temporary) is { LinkTarget: null, Exists: true }) File.Delete(temporary);
            return;
        }

        if (Entry(temporary) is not { } entry) return;
        if (entry.Type != RegularFile || entry.Owner != GetEffectiveUserId())
        {
            var what = entry.Type == SymbolicLink ? "a symbolic link" : entry.Type != RegularFile ? "not a regular file" : "another user's file";
            throw new IOException($"{temporary} is {what}; it is neither followed nor removed");
        }

        File.Delete(temporary);
    }

    private const int SymbolicLink = 0xA000;
    private const int RegularFile = 0x8000;

    /// <summary>The file type and owner of the path itself (not of what a link points to); null when nothing is there.</summary>
    private static (int Type, uint Owner)? Entry(string path)
    {
        // struct statx has the same layout on every architecture: stx_uid at 20, stx_mode at 28.
        const int atCurrentDirectory = -100, symlinkNoFollow = 0x100, typeAndOwner = 0x1 | 0x8;
        Span<byte> buffer = stackalloc byte[256];
        if (Statx(atCurrentDirectory, Path.GetFullPath(path), symlinkNoFollow, typeAndOwner, ref MemoryMarshal.GetReference(buffer)) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == 2) return null; // ENOENT
            throw new IOException($"cannot inspect {path} (errno {errno})");
        }

        return (MemoryMarshal.Read<ushort>(buffer[28..]) & 0xF000, MemoryMarshal.Read<uint>(buffer[20..]));
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int descriptor);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int descriptor);

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statx(int directory, string path, int flags, uint mask, ref byte buffer);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();
}
