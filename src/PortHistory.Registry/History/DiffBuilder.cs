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
    private readonly ImmutableArray<EditionDiffEntry>.Builder _entries = ImmutableArray.CreateBuilder<EditionDiffEntry>();
    private EditionDiffEntry? _open;
    private string? _openKeys;

    /// <summary>Adds one segment; segments of a transport must come in port order.</summary>
    public void AddSegment(TransportProtocol transport, PortSpan ports, IReadOnlyList<EditionRecord> before, IReadOnlyList<EditionRecord> after)
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
            _open = _open with { Ports = new PortSpan(open.First, ports.Last) };
            return;
        }

        Flush();
        _open = new EditionDiffEntry(transport, ports, Kind(before, after), [.. before], [.. after], PortStates.Compare(before, after));
        _openKeys = keys;
    }

    /// <summary>Adds a registration without a port.</summary>
    public void AddNameOnly(TransportProtocol transport, IReadOnlyList<EditionRecord> before, IReadOnlyList<EditionRecord> after)
    {
        Flush();
        if (PortStates.Key(before) == PortStates.Key(after)) return;
        _entries.Add(new EditionDiffEntry(transport, null, Kind(before, after), [.. before], [.. after], PortStates.Compare(before, after)));
    }

    public ImmutableArray<EditionDiffEntry> Build()
    {
        Flush();
        return _entries.ToImmutable();
    }

    private static EditionDiffKind Kind(IReadOnlyList<EditionRecord> before, IReadOnlyList<EditionRecord> after) =>
        before.Count == 0 ? EditionDiffKind.Added : after.Count == 0 ? EditionDiffKind.Removed : EditionDiffKind.Changed;

    private void Flush()
    {
        if (_open is not null) _entries.Add(_open);
        _open = null;
        _openKeys = null;
    }
}
