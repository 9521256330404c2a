namespace PortHistory.Registry.Model;

/// <summary>What a record says about a withdrawn assignment: when (if stated) and what the port was before.</summary>
public sealed record DeassignmentNote(string? On, string? PreviousService)
{
    public override string ToString() =>
        (On, PreviousService) switch
        {
            (not null, not null) => $"de-assigned on {On}, previously {PreviousService}",
            (not null, null) => $"de-assigned on {On}",
            (null, not null) => $"previously {PreviousService}",
            _ => "de-assigned",
        };
}
