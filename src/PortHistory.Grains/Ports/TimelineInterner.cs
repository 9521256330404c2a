using System.Collections.Concurrent;
using System.Buffers.Binary;
using System.Security.Cryptography;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Grains.Ports;

/// <summary>
/// Most ports hold the same timelines as their neighbours (every port of an unassigned range does): port grains on
/// a silo share one copy of equal stored bytes and of their parsed form instead of 65,536 copies. Entries are held
/// weakly, so timelines no activation uses any more are collected. Shared messages are never modified.
/// </summary>
public sealed class TimelineInterner
{
    private readonly ConcurrentDictionary<(ulong, int), WeakReference<Shared>> _shared = new();
    private int _adds;

    public sealed record Shared(byte[] Bytes, StoredPortRegistry Timelines);

    public Shared Intern(byte[] bytes)
    {
        var key = (BinaryPrimitives.ReadUInt64LittleEndian(SHA256.HashData(bytes)), bytes.Length);
        if (_shared.TryGetValue(key, out var weak) && weak.TryGetTarget(out var existing) && existing.Bytes.AsSpan().SequenceEqual(bytes)) return existing;
        var created = new Shared(bytes, StoredPortRegistry.Parser.ParseFrom(bytes));
        _shared[key] = new WeakReference<Shared>(created);
        if (Interlocked.Increment(ref _adds) % 4096 == 0) Sweep();
        return created;
    }

    private void Sweep()
    {
        foreach (var (key, weak) in _shared)
        {
            if (!weak.TryGetTarget(out _)) _shared.TryRemove(key, out _);
        }
    }
}
