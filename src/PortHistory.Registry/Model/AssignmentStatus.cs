namespace PortHistory.Registry.Model;

/// <summary>What a record says about its port. Derived by the parsers from the record's structure and text.</summary>
public enum AssignmentStatus : byte
{
    /// <summary>The port is assigned to a service (named or, in early editions, described only).</summary>
    Assigned = 1,

    /// <summary>The registry holds the port back ("Reserved").</summary>
    Reserved = 2,

    /// <summary>The registry lists the port as free ("Unassigned").</summary>
    Unassigned = 3,

    /// <summary>A former assignment was withdrawn ("De-assigned on …", "[was netstat]", "De-registered", "Removed").</summary>
    DeAssigned = 4,

    /// <summary>Conventional use that is not an assignment: RFC 1060 "UNIX PORTS", /etc/services, nmap-services.</summary>
    Conventional = 5,
}

public static class AssignmentStatuses
{
    public static string ToText(this AssignmentStatus status) => status switch
    {
        AssignmentStatus.Assigned => "assigned",
        AssignmentStatus.Reserved => "reserved",
        AssignmentStatus.Unassigned => "unassigned",
        AssignmentStatus.DeAssigned => "de-assigned",
        AssignmentStatus.Conventional => "conventional",
        _ => "unknown",
    };

    public static bool TryParse(string? text, out AssignmentStatus status)
    {
        switch (text?.Trim().ToLowerInvariant().Replace("_", "-"))
        {
            case "assigned": status = AssignmentStatus.Assigned; return true;
            case "reserved": status = AssignmentStatus.Reserved; return true;
            case "unassigned": status = AssignmentStatus.Unassigned; return true;
            case "de-assigned" or "deassigned": status = AssignmentStatus.DeAssigned; return true;
            case "conventional": status = AssignmentStatus.Conventional; return true;
            default: status = default; return false;
        }
    }

    /// <summary>
    /// Which record speaks for a port when an edition lists several on the same port and transport:
    /// an assignment outranks conventional use, which outranks the registry's bookkeeping states.
    /// </summary>
    public static int Precedence(this AssignmentStatus status) => status switch
    {
        AssignmentStatus.Assigned => 5,
        AssignmentStatus.Conventional => 4,
        AssignmentStatus.DeAssigned => 3,
        AssignmentStatus.Reserved => 2,
        AssignmentStatus.Unassigned => 1,
        _ => 0,
    };
}
