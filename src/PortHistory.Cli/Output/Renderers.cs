using System.Text.Json;
using PortHistory.Cli.Sources;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;

namespace PortHistory.Cli.Output;

/// <summary>Tables for people, JSON for scripts, one method per answer.</summary>
public static class Renderers
{
    public static void Inspect(TextWriter output, RegistryEdition edition, bool json)
    {
        var counts = edition.Records
            .GroupBy(r => (Transport: r.Transport == TransportProtocol.Unspecified ? "(none)" : r.Transport.ToText(), Status: r.Status.ToText()))
            .OrderBy(g => g.Key.Transport).ThenBy(g => g.Key.Status)
            .Select(g => new { transport = g.Key.Transport, status = g.Key.Status, records = g.Count() })
            .ToList();
        if (json)
        {
            Json.Write(output, new
            {
                edition = EditionOverview.Of(edition),
                recordsWithoutPort = edition.Records.Count(r => r.Ports is null),
                counts,
                warnings = edition.Warnings,
            });
            return;
        }

        output.WriteLine($"{edition.Title}");
        output.WriteLine($"  id:       {edition.Id}");
        output.WriteLine($"  format:   {edition.Format.ToText()}");
        output.WriteLine($"  date:     {edition.EffectiveDate:yyyy-MM-dd} ({DateSource(edition.DateSource)})");
        output.WriteLine($"  source:   {edition.Source}");
        output.WriteLine($"  sha256:   {edition.Sha256}");
        output.WriteLine($"  bytes:    {edition.Bytes}");
        output.WriteLine($"  records:  {edition.Records.Length} ({edition.Records.Count(r => r.Ports is null)} without a port)");
        output.WriteLine($"  warnings: {edition.Warnings.Length}");
        output.WriteLine();
        var table = new TextTable("TRANSPORT", "STATUS", "RECORDS");
        foreach (var row in counts) table.Add(row.transport, row.status, row.records.ToString());
        table.WriteTo(output);
        if (edition.Warnings.Length == 0) return;
        output.WriteLine();
        output.WriteLine("Warnings:");
        foreach (var warning in edition.Warnings) output.WriteLine($"  {warning}");
    }

    public static void Editions(TextWriter output, IReadOnlyList<EditionOverview> editions, bool json)
    {
        if (json)
        {
            Json.Write(output, editions);
            return;
        }

        var table = new TextTable("ID", "DATE", "FORMAT", "RECORDS", "WARNINGS", "TITLE");
        foreach (var e in editions) table.Add(e.Id, e.EffectiveDate.ToString("yyyy-MM-dd"), e.Format.ToText(), e.Records.ToString(), e.Warnings.ToString(), e.Title);
        table.WriteTo(output);
    }

    public static void Timelines(TextWriter output, int port, IReadOnlyList<AssignmentTimeline> timelines, bool json)
    {
        if (json)
        {
            Json.Write(output, new { port, @class = PortNumberClasses.Of(port), timelines });
            return;
        }

        output.WriteLine($"Port {port}: {PortNumberClasses.Of(port).ToText()}");
        if (timelines.All(t => t.IsEmpty))
        {
            output.WriteLine("No edition lists this port.");
            return;
        }

        foreach (var timeline in timelines.Where(t => !t.IsEmpty))
        {
            output.WriteLine();
            output.WriteLine($"{port}/{timeline.Transport.ToText()}");
            var table = new TextTable("FROM", "THROUGH", "SERVICE", "STATUS", "DESCRIPTION", "PEOPLE", "CHANGE") { MaxCellWidth = 70 };
            foreach (var v in timeline.Versions)
            {
                table.Add(Describe.Edition(v.From), Describe.Edition(v.Through), Describe.Service(v.Primary), Describe.Status(v.Primary),
                    v.Primary?.Description, Describe.People(v.Primary), Describe.Changes(v.Changes));
            }

            table.WriteTo(output);
        }
    }

    public static void Port(TextWriter output, PortAnswer answer, bool json)
    {
        if (json)
        {
            Json.Write(output, answer);
            return;
        }

        if (answer.Edition is not null)
        {
            RegistrySection(output, answer, answer.Edition);
        }
        else if (answer.Local.Count > 0)
        {
            output.WriteLine($"Port {answer.Port}: {answer.Class.ToText()}; no registry edition in effect, local tables only");
        }
        else
        {
            output.WriteLine($"Port {answer.Port}: no edition was in effect on that date.");
        }

        LocalSection(output, answer.Local);

        if (answer.Observed is null) return;
        output.WriteLine();
        ObservationRenderers.ObservedSection(output, answer.Observed);
    }

    private static void RegistrySection(TextWriter output, PortAnswer answer, EditionIdentity edition)
    {
        output.WriteLine($"Port {answer.Port}: {answer.Class.ToText()}; edition in effect: {Describe.Edition(edition)}, {edition.Title}");
        // SINCE is where the unbroken holding began; when the record changed later, a line under the table says when and how.
        var table = new TextTable("TRANSPORT", "SERVICE", "STATUS", "DESCRIPTION", "PEOPLE", "SINCE", "SECTION");
        foreach (var transport in answer.Transports)
        {
            var since = transport.HeldSince ?? transport.Since;
            var sinceText = since is null ? "" : Describe.Edition(since);
            if (transport.Records.Count == 0)
            {
                table.Add(transport.Transport.ToText(), "(not listed)", "", "", "", sinceText, "");
                continue;
            }

            foreach (var record in transport.Records)
            {
                table.Add(transport.Transport.ToText(), Describe.Service(record), Describe.Status(record), record.Description, Describe.People(record),
                    sinceText, record.Section);
            }
        }

        table.WriteTo(output);
        foreach (var transport in answer.Transports)
        {
            if (Describe.HoldingNotes(transport) is { } notes) output.WriteLine($"{answer.Port}/{transport.Transport.ToText()}: {notes}");
        }
    }

    /// <summary>One line per local table entry: conventional use, worded apart from the registry's records.</summary>
    private static void LocalSection(TextWriter output, IReadOnlyList<LocalEntry> entries)
    {
        if (entries.Count == 0) return;
        output.WriteLine();
        foreach (var entry in entries) output.WriteLine($"local: {Describe.Local(entry)}");
    }

    public static void Service(TextWriter output, ServiceAnswer answer, bool json)
    {
        if (json)
        {
            Json.Write(output, answer);
            return;
        }

        if (answer.Holdings.Count == 0)
        {
            output.WriteLine($"No edition lists a service named \"{answer.Name}\".");
            return;
        }

        output.WriteLine($"Service \"{answer.Name}\"");
        var table = new TextTable("PORTS", "TRANSPORT", "NAME", "STATUS", "FROM", "THROUGH");
        foreach (var h in answer.Holdings)
        {
            table.Add(Describe.Ports(h.Ports), h.Transport == TransportProtocol.Unspecified ? "-" : h.Transport.ToText(),
                h.AsAlias ? $"{h.Name} (alias)" : h.Name, h.Status.ToText(), Describe.Edition(h.From), Describe.Edition(h.Through));
        }

        table.WriteTo(output);
        if (answer.Renames.Count == 0) return;
        output.WriteLine();
        output.WriteLine("Renames:");
        foreach (var link in answer.Renames)
        {
            output.WriteLine($"  {link.From} → {link.To} on {link.Ports}/{link.Transport.ToText()} in {Describe.Edition(link.Edition)}");
        }
    }

    public static void Diff(TextWriter output, EditionDiff diff, bool json)
    {
        if (json)
        {
            Json.Write(output, diff);
            return;
        }

        output.WriteLine($"{Describe.Edition(diff.From)} → {Describe.Edition(diff.To)}: {diff.Entries.Length} differences");
        var table = new TextTable("PORTS", "TRANSPORT", "KIND", "BEFORE", "AFTER", "CHANGES") { MaxCellWidth = 80 };
        foreach (var e in diff.Entries)
        {
            table.Add(Describe.Ports(e.Ports), e.Transport == TransportProtocol.Unspecified ? "-" : e.Transport.ToText(), e.Kind.ToString().ToLowerInvariant(),
                e.Before.IsEmpty ? "" : $"{Describe.Service(e.Before[0])} {Describe.Status(e.Before[0])}",
                e.After.IsEmpty ? "" : $"{Describe.Service(e.After[0])} {Describe.Status(e.After[0])}",
                Describe.Changes(e.Changes));
        }

        table.WriteTo(output);
    }

    public static async Task PortsAsync(TextWriter output, IAsyncEnumerable<AssignmentInEffect> rows, bool json, CancellationToken cancellationToken)
    {
        if (json)
        {
            // Streamed element by element: a full export is 180,000 rows.
            await output.WriteLineAsync("[");
            var first = true;
            await foreach (var row in rows.WithCancellation(cancellationToken))
            {
                if (!first) await output.WriteLineAsync(",");
                first = false;
                await output.WriteAsync(JsonSerializer.Serialize(row, Json.CompactOptions));
            }

            await output.WriteLineAsync(first ? "]" : "\n]");
            return;
        }

        await output.WriteLineAsync($"{"PORT",-6} {"TRANSPORT",-9} {"SERVICE",-24} {"STATUS",-13} {"SINCE",-34} DESCRIPTION");
        await foreach (var row in rows.WithCancellation(cancellationToken))
        {
            var record = row.Primary;
            await output.WriteLineAsync(
                $"{row.Port,-6} {row.Transport.ToText(),-9} {Describe.Service(record),-24} {record.Status.ToText(),-13} {Describe.Edition(row.Since),-34} {record.Description.Replace('\n', ' ')}");
        }
    }

    private static string DateSource(EditionDateSource source) => source switch
    {
        EditionDateSource.Content => "from the content",
        EditionDateSource.Override => "given",
        EditionDateSource.FileName => "from the file name",
        _ => "inferred",
    };
}
