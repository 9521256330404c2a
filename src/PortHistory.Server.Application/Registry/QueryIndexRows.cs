namespace PortHistory.Server.Application.Registry;

/// <summary>Every row of the query index for one history generation.</summary>
public sealed record QueryIndexRows(
    IReadOnlyList<VersionRow> Versions,
    IReadOnlyList<NameOnlyRow> NameOnly,
    IReadOnlyList<HoldingRow> Holdings,
    IReadOnlyList<RenameRow> Renames);

public sealed record VersionRow(short Transport, int PortFirst, int PortLast, int VersionIndex, int FromRank, int ThroughRank, short Status,
    byte[] StateKey, byte[] Version);

public sealed record NameOnlyRow(short Transport, string NameLower, int VersionIndex, int FromRank, int ThroughRank, byte[] StateKey, byte[] Version);

public sealed record HoldingRow(string NameLower, int Ordinal, byte[] Holding);

public sealed record RenameRow(int Ordinal, string FromLower, string ToLower, byte[] Link);
