namespace PortHistory.Agent.Spool;

/// <summary>A byte offset in a numbered segment file; positions order as the records were appended.</summary>
public readonly record struct SpoolPosition(long Segment, long Offset) : IComparable<SpoolPosition>
{
    public int CompareTo(SpoolPosition other) => Segment != other.Segment ? Segment.CompareTo(other.Segment) : Offset.CompareTo(other.Offset);

    public static bool operator <(SpoolPosition left, SpoolPosition right) => left.CompareTo(right) < 0;

    public static bool operator >(SpoolPosition left, SpoolPosition right) => left.CompareTo(right) > 0;

    public static bool operator <=(SpoolPosition left, SpoolPosition right) => left.CompareTo(right) <= 0;

    public static bool operator >=(SpoolPosition left, SpoolPosition right) => left.CompareTo(right) >= 0;

    public static SpoolPosition Max(SpoolPosition a, SpoolPosition b) => a >= b ? a : b;
}
