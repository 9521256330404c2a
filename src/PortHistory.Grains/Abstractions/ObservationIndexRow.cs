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
    string[] Observed);
