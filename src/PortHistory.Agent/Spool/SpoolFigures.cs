namespace PortHistory.Agent.Spool;

/// <summary>How full the spool is and what it has lost, as of now.</summary>
/// <param name="Records">Records waiting to be sent.</param>
/// <param name="Bytes">Size of the segment files on disk (what the byte bound limits).</param>
public sealed record SpoolFigures(long Records, long Bytes, long DroppedRecords, long CorruptRecords, long ExpiredSightings);
