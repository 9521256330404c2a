namespace PortHistory.Agent.Sending;

/// <summary>What one drain of the spool did.</summary>
/// <param name="Acknowledged">Batches acknowledged.</param>
/// <param name="Reports">Host reports applied (or applied before), heartbeats included.</param>
/// <param name="Resyncs">Host reports the server answered RESYNC (a snapshot followed).</param>
/// <param name="Complete">Everything due was delivered: the spool was emptied and a heartbeat due was answered.</param>
public sealed record DrainSummary(
    int Acknowledged, int Refused, long Accepted, long Rejected, int Duplicates, long ExpiredSightings, bool Complete, int Reports = 0, int Resyncs = 0)
{
    public int Attempted => Acknowledged + Refused;
}
