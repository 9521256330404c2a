using PortHistory.Registry.History;

namespace PortHistory.Server.Application.Import;

/// <summary>
/// The history this silo last committed or read, with its projection: the next generation appends to it instead of
/// reading the history back, and writes only the index rows and port states that differ from it. Valid only for the
/// generation it was made for; another silo's commit makes it stale.
/// </summary>
public sealed class HistoryCache
{
    private volatile Entry? _current;

    public sealed record Entry(long Generation, HistoryLedger Ledger, RegistryProjection? Projection);

    /// <summary>The entry for <paramref name="committedGeneration"/>, or null.</summary>
    public Entry? For(long committedGeneration) => _current is { } entry && entry.Generation == committedGeneration ? entry : null;

    public void Keep(Entry entry) => _current = entry;
}
