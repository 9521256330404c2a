using System.Runtime.InteropServices;

namespace PortHistory.Agent.Spool;

/// <summary>Files replaced whole or not at all: written to a temporary name, flushed to disk, then renamed over the old one.</summary>
public static partial class DurableFile
{
    public static void Replace(string path, ReadOnlySpan<byte> content)
    {
        var temporary = path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(content);
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
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

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int descriptor);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int descriptor);
}
