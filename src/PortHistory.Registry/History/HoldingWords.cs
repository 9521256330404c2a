using System.Globalization;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.History;

/// <summary>How answers word a holding in a sentence: the editions it cites, and the change the record saw after it began.</summary>
public static class HoldingWords
{
    /// <summary>An edition's date as precisely as the edition gives it: an Assigned Numbers RFC names a month ("1992-07").</summary>
    public static string DateText(EditionIdentity edition) =>
        edition.Date.ToString(edition.Format == EditionFileFormat.RfcAssignedNumbers ? "yyyy-MM" : "yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>"rfc1340, 1992-07"; an id that already carries its date stands alone ("iana-text-2004-01-08").</summary>
    public static string Cite(EditionIdentity edition)
    {
        var date = DateText(edition);
        return edition.Id.Contains(date, StringComparison.Ordinal) ? edition.Id : $"{edition.Id}, {date}";
    }

    /// <summary>
    /// "2004-01-08: contact added": when (the first edition of the version in effect) and how the record changed after
    /// its holding began; null when the version in effect is where the holding began.
    /// </summary>
    public static string? LastChange(EditionIdentity heldSince, EditionIdentity versionFrom, IEnumerable<RecordChange> changes)
    {
        if (heldSince.Id == versionFrom.Id) return null;
        var briefs = changes.Select(c => c.Brief()).Distinct().ToList();
        return briefs.Count == 0 ? DateText(versionFrom) : $"{DateText(versionFrom)}: {string.Join(", ", briefs)}";
    }

    /// <inheritdoc cref="LastChange(EditionIdentity, EditionIdentity, IEnumerable{RecordChange})"/>
    public static string? LastChange(RecordVersion version) => LastChange(version.HeldSince, version.From, version.Changes);
}
