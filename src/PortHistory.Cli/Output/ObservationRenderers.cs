using System.Globalization;
using System.Text.Json;
using PortHistory.Cli.Sources;
using PortHistory.Registry.Model;

namespace PortHistory.Cli.Output;

/// <summary>Tables and JSON for what fleets observe, the verdicts, and access tokens.</summary>
public static class ObservationRenderers
{
    public static void Observed(TextWriter output, ObservedAnswer answer, bool json)
    {
        if (json)
        {
            Json.Write(output, answer);
            return;
        }

        ObservedSection(output, answer);
    }

    /// <summary>The observed part on its own: also written under the registry answer of `port` in server mode.</summary>
    public static void ObservedSection(TextWriter output, ObservedAnswer answer)
    {
        var sightings = answer.Transports.Aggregate(0UL, (sum, t) => sum + t.Sightings);
        output.WriteLine($"Observed on port {answer.Port}: {sightings} sighting(s); {answer.ReportingHosts} host(s) report fleet-wide.");
        if (answer.Transports.Count > 0)
        {
            var table = new TextTable("TRANSPORT", "PROCESS", "EXECUTABLE", "SERVICE", "HOSTS", "SIGHTINGS", "FIRST SEEN", "LAST SEEN", "BIND", "PRIVILEGED");
            foreach (var transport in answer.Transports)
            {
                foreach (var p in transport.Processes)
                {
                    // A gone process is history: the last online host running it stopped it (hosts going stale do not make it gone).
                    table.Add(transport.Transport.ToText(), p.Gone ? $"{p.Process} (gone)" : p.Process, p.Executable, p.MappedService ?? "?", Count(p.DistinctHosts), Count(p.Sightings),
                        Time(p.FirstSeen), Time(p.LastSeen), Binds(p), $"{Count(p.Privileged)} yes / {Count(p.Unprivileged)} no");
                }

                if (transport.WithheldProcesses > 0 || transport.Processes.Count == 0)
                {
                    table.Add(transport.Transport.ToText(), $"({transport.WithheldProcesses} process(es) on too few hosts to show)", "", "",
                        Count(transport.DistinctHosts), Count(transport.Sightings), Time(transport.FirstSeen), Time(transport.LastSeen), "", "");
                }
            }

            table.WriteTo(output);
        }

        if (answer.Verdicts.Count == 0) return;
        output.WriteLine();
        var verdicts = new TextTable("TRANSPORT", "VERDICT", "REASON") { MaxCellWidth = 120 };
        foreach (var v in answer.Verdicts) verdicts.Add(v.Transport.ToText(), v.Verdict, v.Reason);
        verdicts.WriteTo(output);
    }

    public static async Task DiscrepanciesAsync(TextWriter output, IAsyncEnumerable<(DiscrepancyView Discrepancy, ulong ReportingHosts)> rows, bool json,
        CancellationToken cancellationToken)
    {
        if (json)
        {
            await output.WriteLineAsync("[");
            var first = true;
            await foreach (var (row, _) in rows.WithCancellation(cancellationToken))
            {
                if (!first) await output.WriteLineAsync(",");
                first = false;
                await output.WriteAsync(JsonSerializer.Serialize(row, Json.CompactOptions));
            }

            await output.WriteLineAsync(first ? "]" : "\n]");
            return;
        }

        var table = new TextTable("PORT", "TRANSPORT", "VERDICT", "HOSTS", "SIGHTINGS", "REASON") { MaxCellWidth = 120 };
        ulong reporting = 0;
        var count = 0;
        await foreach (var (row, hosts) in rows.WithCancellation(cancellationToken))
        {
            reporting = hosts;
            count++;
            table.Add(row.Port.ToString(CultureInfo.InvariantCulture), row.Verdict.Transport.ToText(), row.Verdict.Verdict, Count(row.Hosts),
                Count(row.Sightings), row.Verdict.Reason);
        }

        if (count == 0)
        {
            await output.WriteLineAsync("No discrepancies.");
            return;
        }

        table.WriteTo(output);
        await output.WriteLineAsync($"{count} discrepancies; {reporting} host(s) report fleet-wide.");
    }

    public static void Tokens(TextWriter output, IReadOnlyList<TokenView> tokens, bool json)
    {
        if (json)
        {
            Json.Write(output, tokens);
            return;
        }

        var table = new TextTable("ID", "ROLE", "HOST", "NAME", "CREATED", "REVOKED");
        foreach (var t in tokens) table.Add(t.Id, t.Role, t.HostRef ?? "", t.Name, Time(t.CreatedAt), t.RevokedAt is null ? "" : Time(t.RevokedAt));
        table.WriteTo(output);
    }

    public static void Token(TextWriter output, TokenView token, bool json)
    {
        if (json)
        {
            Json.Write(output, token);
            return;
        }

        output.WriteLine($"{(token.RevokedAt is null ? "token" : "revoked")} {token.Id}: {token.Role}, \"{token.Name}\"{(token.HostRef is null ? "" : $", host {token.HostRef}")}");
        if (token.Token is not null)
        {
            output.WriteLine("The secret, shown this once (only its hash is stored):");
            output.WriteLine(token.Token);
        }
    }

    private static string Binds(ObservedProcessView p)
    {
        var parts = new List<string>();
        if (p.Wildcard > 0) parts.Add($"wildcard {p.Wildcard}");
        if (p.Loopback > 0) parts.Add($"loopback {p.Loopback}");
        if (p.Specific > 0) parts.Add($"specific {p.Specific}");
        return string.Join(", ", parts);
    }

    private static string Count(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Time(DateTime? value) => value?.ToString("yyyy-MM-dd HH:mm'Z'", CultureInfo.InvariantCulture) ?? "";
}
