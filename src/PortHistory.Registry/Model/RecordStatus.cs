namespace PortHistory.Registry.Model;

/// <summary>What a record says about its port. Derived by the parsers from the record's structure and text.</summary>
public enum RecordStatus : byte
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

public static class RecordStatuses
{
    public static string ToText(this RecordStatus status) => status switch
    {
        RecordStatus.Assigned => "assigned",
        RecordStatus.Reserved => "reserved",
        RecordStatus.Unassigned => "unassigned",
        RecordStatus.DeAssigned => "de-assigned",
        RecordStatus.Conventional => "conventional",
        _ => "unknown",
    };

    public static bool TryParse(string? text, out RecordStatus status)
    {
        switch (text?.Trim().ToLowerInvariant().Replace("_", "-"))
        {
            case "assigned": status = RecordStatus.Assigned; return true;
            case "reserved": status = RecordStatus.Reserved; return true;
            case "unassigned": status = RecordStatus.Unassigned; return true;
            case "de-assigned" or "deassigned": status = RecordStatus.DeAssigned; return true;
            case "conventional": status = RecordStatus.Conventional; return true;
            default: status = default; return false;
        }
    }

    /// <summary>
    /// Which record speaks for a port when an edition lists several on the same port and transport:
    /// an assignment outranks conventional use, which outranks the registry's bookkeeping states.
    /// </summary>
    public static int Precedence(this RecordStatus status) => status switch
    {
        RecordStatus.Assigned => 5,
        RecordStatus.Conventional => 4,
        RecordStatus.DeAssigned => 3,
        RecordStatus.Reserved => 2,
        RecordStatus.Unassigned => 1,
        _ => 0,
    };
}
