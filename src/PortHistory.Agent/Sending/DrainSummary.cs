namespace PortHistory.Agent.Sending;

/// <summary>What one drain of the spool did.</summary>
/// <param name="Complete">The spool was emptied: nothing was left for lack of an answer.</param>
public sealed record DrainSummary(int Acknowledged, int Refused, long Accepted, long Rejected, int Duplicates, long ExpiredSightings, bool Complete)
{
    public int Attempted => Acknowledged + Refused;
}
