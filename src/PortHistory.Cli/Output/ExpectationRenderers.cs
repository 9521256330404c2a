using System.Globalization;
using PortHistory.Cli.Expectations;
using PortHistory.Registry.Model;

namespace PortHistory.Cli.Output;

/// <summary>Tables and JSON for expectations and for what an import changed.</summary>
public static class ExpectationRenderers
{
    public static void Set(TextWriter output, ExpectationView expectation, bool created, bool json)
    {
        if (json)
        {
            Json.Write(output, new { expectation, created });
            return;
        }

        output.WriteLine($"{(created ? "added" : "kept")}: {expectation.Describe()}{Note(expectation)}");
    }

    public static void Removed(TextWriter output, ExpectationView expectation, bool json)
    {
        if (json)
        {
            Json.Write(output, expectation);
            return;
        }

        output.WriteLine($"removed: {expectation.Describe()}");
    }

    public static void List(TextWriter output, IReadOnlyList<ExpectationView> expectations, bool json)
    {
        if (json)
        {
            Json.Write(output, expectations);
            return;
        }

        if (expectations.Count == 0)
        {
            output.WriteLine("No expectations.");
            return;
        }

        var table = new TextTable("PORT", "TRANSPORT", "PROCESS", "GROUP", "NOTE", "SET BY", "SET AT") { MaxCellWidth = 80 };
        foreach (var e in expectations)
        {
            table.Add(e.Port.ToString(CultureInfo.InvariantCulture), e.Transport.ToText(), e.Process, e.Group ?? "(every host)", e.Note ?? "", e.SetBy ?? "",
                e.SetAt?.ToString("yyyy-MM-dd HH:mm'Z'", CultureInfo.InvariantCulture) ?? "");
        }

        table.WriteTo(output);
    }

    public static void Changes(TextWriter output, ExpectationChanges changes, bool json)
    {
        if (json)
        {
            Json.Write(output, changes);
            return;
        }

        foreach (var e in changes.Added) output.WriteLine($"added: {e.Describe()}{Note(e)}");
        foreach (var e in changes.Changed) output.WriteLine($"note changed: {e.Describe()}{Note(e)}");
        foreach (var e in changes.Removed) output.WriteLine($"removed: {e.Describe()}");
        output.WriteLine($"{(changes.DryRun ? "would add" : "added")} {changes.Added.Count}, {(changes.DryRun ? "change" : "changed")} {changes.Changed.Count}, " +
                         $"{(changes.DryRun ? "remove" : "removed")} {changes.Removed.Count}; {changes.Unchanged} unchanged");
    }

    private static string Note(ExpectationView e) => e.Note is { Length: > 0 } note ? $" ({note})" : "";
}
