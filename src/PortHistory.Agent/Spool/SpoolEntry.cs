namespace PortHistory.Agent.Spool;

/// <summary>The oldest record not yet acknowledged, as read back from its segment.</summary>
/// <param name="Start">Where its header begins; identifies it when it is acknowledged.</param>
public sealed record SpoolEntry(SpoolPosition Start, SpoolRecordKind Kind, byte[] Payload);
