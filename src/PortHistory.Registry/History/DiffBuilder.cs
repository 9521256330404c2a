using System.Collections.Immutable;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.History;

/// <summary>
/// Collects the differences between two states per port segment, in port order, joining neighbouring segments
/// whose before and after say the same, and classifying each difference as timelines do. Used for offline diffs
/// and by the server over its query index, so both answer alike.
/// </summary>
public sealed class DiffBuilder
{
    private readonly ImmutableArray<DiffEntry>.Builder _entries = ImmutableArray.CreateBuilder<DiffEntry>();
    private DiffEntry? _open;
    private string? _openKeys;

    /// <summary>Adds one segment; segments of a transport must come in port order.</summary>
    public void AddSegment(Transport transport, PortRange ports, IReadOnlyList<RegistryRecord> before, IReadOnlyList<RegistryRecord> after)
    {
        var keyBefore = PortStates.Key(before);
        var keyAfter = PortStates.Key(after);
        if (keyBefore == keyAfter)
        {
            Flush();
            return;
        }

        var keys = keyBefore + "\u001f" + keyAfter;
        if (_open is { Ports: { } open } && _open.Transport == transport && _openKeys == keys && open.Last + 1 == ports.First)
        {
            _open = _open with { Ports = new PortRange(open.First, ports.Last) };
            return;
        }

        Flush();
        _open = new DiffEntry(transport, ports, Kind(before, after), [.. before], [.. after], PortStates.Compare(before, after));
        _openKeys = keys;
    }

    /// <summary>Adds a registration without a port.</summary>
    public void AddNameOnly(Transport transport, IReadOnlyList<RegistryRecord> before, IReadOnlyList<RegistryRecord> after)
    {
        Flush();
        if (PortStates.Key(before) == PortStates.Key(after)) return;
        _entries.Add(new DiffEntry(transport, null, Kind(before, after), [.. before], [.. after], PortStates.Compare(before, after)));
    }

    public ImmutableArray<DiffEntry> Build()
    {
        Flush();
        return _entries.ToImmutable();
    }

    private static DiffKind Kind(IReadOnlyList<RegistryRecord> before, IReadOnlyList<RegistryRecord> after) =>
        before.Count == 0 ? DiffKind.Added : after.Count == 0 ? DiffKind.Removed : DiffKind.Changed;

    private void Flush()
    {
        if (_open is not null) _entries.Add(_open);
        _open = null;
        _openKeys = null;
    }
}
