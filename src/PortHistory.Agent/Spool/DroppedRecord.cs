namespace PortHistory.Agent.Spool;

/// <summary>A record the spool let go unsent (full, or larger than its bound), with its size on disk.</summary>
public readonly record struct DroppedRecord(SpoolRecordKind Kind, long Bytes);
