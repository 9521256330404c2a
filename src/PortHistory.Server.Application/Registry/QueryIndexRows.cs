namespace PortHistory.Server.Application.Registry;

/// <summary>
/// Every row of the query index for one history generation. A row says the same from one generation to the next
/// unless what it describes changed: a version still in effect ends at <see cref="OpenThrough"/> rather than at the
/// newest edition's rank, a holding still held is <c>Open</c>, and stored versions carry no end, so a new edition
/// that changes a few ports rewrites a few rows.
/// </summary>
public sealed record QueryIndexRows(
    IReadOnlyList<VersionRow> Versions,
    IReadOnlyList<NameOnlyRow> NameOnly,
    IReadOnlyList<HoldingRow> Holdings,
    IReadOnlyList<RenameRow> Renames)
{
    /// <summary>The through rank of a version still in effect in the newest edition.</summary>
    public const int OpenThrough = int.MaxValue;

    public static QueryIndexRows None { get; } = new([], [], [], []);
}

public sealed record VersionRow(short Transport, int PortFirst, int PortLast, int VersionIndex, int FromRank, int ThroughRank, short Status,
    byte[] StateKey, byte[] Version)
{
    public (short, int, int) Key => (Transport, PortFirst, VersionIndex);

    public bool SameAs(VersionRow other) =>
        (PortLast, FromRank, ThroughRank, Status) == (other.PortLast, other.FromRank, other.ThroughRank, other.Status) &&
        StateKey.AsSpan().SequenceEqual(other.StateKey) && Version.AsSpan().SequenceEqual(other.Version);
}

public sealed record NameOnlyRow(short Transport, string NameLower, int VersionIndex, int FromRank, int ThroughRank, byte[] StateKey, byte[] Version)
{
    public (short, string, int) Key => (Transport, NameLower, VersionIndex);

    public bool SameAs(NameOnlyRow other) =>
        (FromRank, ThroughRank) == (other.FromRank, other.ThroughRank) && StateKey.AsSpan().SequenceEqual(other.StateKey) &&
        Version.AsSpan().SequenceEqual(other.Version);
}

/// <param name="Open">Still held in the newest edition: the stored holding has no end, readers give it the newest edition.</param>
public sealed record HoldingRow(string NameLower, int Ordinal, byte[] Holding, bool Open = false)
{
    public (string, int) Key => (NameLower, Ordinal);

    public bool SameAs(HoldingRow other) => Open == other.Open && Holding.AsSpan().SequenceEqual(other.Holding);
}

public sealed record RenameRow(int Ordinal, string FromLower, string ToLower, byte[] Link)
{
    public bool SameAs(RenameRow other) => (FromLower, ToLower) == (other.FromLower, other.ToLower) && Link.AsSpan().SequenceEqual(other.Link);
}

/// <summary>How a generation's commit writes the query index: every row anew, or only the rows that differ from the generation before.</summary>
public sealed record QueryIndexWrite(QueryIndexRows? Replace, QueryIndexDelta? Delta)
{
    public static QueryIndexWrite All(QueryIndexRows rows) => new(rows, null);

    public static QueryIndexWrite Changes(QueryIndexRows before, QueryIndexRows after) => new(null, QueryIndexDelta.Between(before, after));
}

/// <summary>The rows to delete (by key) and to write (inserted or replaced) to turn one generation's index into the next.</summary>
public sealed record QueryIndexDelta(
    IReadOnlyList<(short Transport, int PortFirst, int VersionIndex)> DeletedVersions,
    IReadOnlyList<VersionRow> Versions,
    IReadOnlyList<(short Transport, string NameLower, int VersionIndex)> DeletedNameOnly,
    IReadOnlyList<NameOnlyRow> NameOnly,
    IReadOnlyList<(string NameLower, int Ordinal)> DeletedHoldings,
    IReadOnlyList<HoldingRow> Holdings,
    IReadOnlyList<int> DeletedRenames,
    IReadOnlyList<RenameRow> Renames)
{
    public int RowsWritten => Versions.Count + NameOnly.Count + Holdings.Count + Renames.Count;

    public int RowsDeleted => DeletedVersions.Count + DeletedNameOnly.Count + DeletedHoldings.Count + DeletedRenames.Count;

    public static QueryIndexDelta Between(QueryIndexRows before, QueryIndexRows after)
    {
        var (deletedVersions, versions) = Compare(before.Versions, after.Versions, r => r.Key, (a, b) => a.SameAs(b));
        var (deletedNameOnly, nameOnly) = Compare(before.NameOnly, after.NameOnly, r => r.Key, (a, b) => a.SameAs(b));
        var (deletedHoldings, holdings) = Compare(before.Holdings, after.Holdings, r => r.Key, (a, b) => a.SameAs(b));
        var (deletedRenames, renames) = Compare(before.Renames, after.Renames, r => r.Ordinal, (a, b) => a.SameAs(b));
        return new QueryIndexDelta(deletedVersions, versions, deletedNameOnly, nameOnly, deletedHoldings, holdings, deletedRenames, renames);
    }

    private static (List<TKey> Deleted, List<TRow> Written) Compare<TRow, TKey>(IReadOnlyList<TRow> before, IReadOnlyList<TRow> after, Func<TRow, TKey> key,
        Func<TRow, TRow, bool> same) where TKey : notnull
    {
        var old = new Dictionary<TKey, TRow>(before.Count);
        foreach (var row in before) old[key(row)] = row;
        var written = new List<TRow>();
        foreach (var row in after)
        {
            var k = key(row);
            if (old.Remove(k, out var previous) && same(previous, row)) continue;
            written.Add(row);
        }

        return ([.. old.Keys], written);
    }
}
