namespace PortHistory.Registry.History;

/// <summary>What changed for a (port, transport) from one version (or edition) to the next.</summary>
public enum RecordChangeKind : byte
{
    /// <summary>The port was not listed before and now is.</summary>
    Appeared = 1,

    /// <summary>The port was listed before and now is not.</summary>
    Removed = 2,

    /// <summary>A service now holds a port that was unassigned, reserved, de-assigned or only conventionally used.</summary>
    Assigned = 3,

    /// <summary>An assignment was withdrawn: the port is now unassigned, reserved or marked de-assigned.</summary>
    DeAssigned = 4,

    /// <summary>Any other change of status (unassigned → reserved, conventional → reserved, …).</summary>
    StatusChanged = 5,

    /// <summary>The same assignment under a new name (the new name replaces or aliases the old, or keeps its description or people).</summary>
    Renamed = 6,

    /// <summary>A different service now holds the port.</summary>
    Reassigned = 7,

    DescriptionChanged = 8,

    /// <summary>The assignee or contact people changed.</summary>
    ContactChanged = 9,

    AliasesChanged = 10,

    /// <summary>A further service was listed on the same port and transport.</summary>
    ServiceAdded = 11,

    /// <summary>One of several services on the same port and transport is no longer listed.</summary>
    ServiceRemoved = 12,

    /// <summary>Unauthorized-use reports or de-assignment details changed.</summary>
    DetailsChanged = 13,
}

public static class RecordChangeKinds
{
    public static string ToText(this RecordChangeKind kind) => kind switch
    {
        RecordChangeKind.Appeared => "appeared",
        RecordChangeKind.Removed => "removed",
        RecordChangeKind.Assigned => "assigned",
        RecordChangeKind.DeAssigned => "de-assigned",
        RecordChangeKind.StatusChanged => "status changed",
        RecordChangeKind.Renamed => "renamed",
        RecordChangeKind.Reassigned => "reassigned",
        RecordChangeKind.DescriptionChanged => "description changed",
        RecordChangeKind.ContactChanged => "contact changed",
        RecordChangeKind.AliasesChanged => "aliases changed",
        RecordChangeKind.ServiceAdded => "service added",
        RecordChangeKind.ServiceRemoved => "service removed",
        RecordChangeKind.DetailsChanged => "details changed",
        _ => "changed",
    };
}

/// <summary>One change, with the field it concerns and the values before and after (null where none).</summary>
public sealed record RecordChange(RecordChangeKind Kind, string? Field, string? Before, string? After)
{
    /// <summary>The change in a few words, without the values: "contact added", "renamed from acmaint_dbd".</summary>
    public string Brief() => Kind switch
    {
        RecordChangeKind.ContactChanged => Amended("contact", Before is null or NoPeople, After is null or NoPeople),
        RecordChangeKind.DescriptionChanged => Amended("description", string.IsNullOrWhiteSpace(Before), string.IsNullOrWhiteSpace(After)),
        RecordChangeKind.AliasesChanged => Amended("aliases", string.IsNullOrWhiteSpace(Before), string.IsNullOrWhiteSpace(After)),
        RecordChangeKind.Renamed or RecordChangeKind.Reassigned when Before is not null => $"{Kind.ToText()} from {Before}",
        RecordChangeKind.ServiceAdded when After is not null => $"{After} added",
        RecordChangeKind.ServiceRemoved when Before is not null => $"{Before} removed",
        RecordChangeKind.DetailsChanged when Field is not null => $"{Field} changed",
        _ => Kind.ToText(),
    };

    /// <summary>How the history writes "no assignee or contact" (see PortStates.PeopleText).</summary>
    internal const string NoPeople = "(none)";

    private static string Amended(string field, bool noneBefore, bool noneAfter) =>
        (noneBefore, noneAfter) switch
        {
            (true, false) => $"{field} added",
            (false, true) => $"{field} removed",
            _ => $"{field} changed",
        };

    public override string ToString() => (Before, After) switch
    {
        (null, null) => Kind.ToText(),
        (null, _) => $"{Kind.ToText()}: {After}",
        (_, null) => $"{Kind.ToText()}: {Before}",
        _ => $"{Kind.ToText()}: {Before} → {After}",
    };
}
