using System.Text;

namespace PortHistory.Observations;

/// <summary>Host ids are counted by a stable 64-bit hash (FNV-1a of the UTF-8 bytes): distinct counts without keeping every id.</summary>
public static class HostRefs
{
    public static ulong Hash(string hostRef)
    {
        Span<byte> buffer = stackalloc byte[512];
        var count = Encoding.UTF8.GetBytes(hostRef.AsSpan(0, Math.Min(hostRef.Length, 128)), buffer);
        var hash = 14695981039346656037UL;
        foreach (var b in buffer[..count])
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }

        return hash;
    }
}
