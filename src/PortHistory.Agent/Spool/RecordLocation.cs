namespace PortHistory.Agent.Spool;

/// <summary>Where a record waiting in the spool lies, and what its header promised (read back and checked when it is used).</summary>
internal readonly record struct RecordLocation(SpoolPosition Start, SpoolRecordKind Kind, int Length, uint PayloadCrc)
{
    public SpoolPosition End => Start with { Offset = Start.Offset + RecordFrame.HeaderBytes + Length };

    /// <summary>The record's size on disk, header included.</summary>
    public long Bytes => RecordFrame.HeaderBytes + Length;
}
