using PortHistory.Contracts.V1;

namespace PortHistory.Grains.Abstractions;

/// <summary>A row of the observations query index, per transport.</summary>
public sealed record ObservationIndexRow(
    Transport Transport,
    long Hosts,
    long Sightings,
    DateTime FirstSeen,
    DateTime LastSeen,
    VerdictKind Verdict,
    string Reason,
    string? AssignedService,
    string[] Observed)
{
    /// <summary>The oldest last sighting of a process not gone (null: none left): the gone-process sweep looks at ports by it.</summary>
    public DateTime? OldestLiveSeen { get; init; }
}
