using System.Globalization;
using System.Text;

namespace PortHistory.Cli.UsageFiles;

/// <summary>
/// Usage rows as CSV: a header naming the columns (day, port, transport, process, hosts; executable and reachable
/// optional; any order), then one row per line. Fields may be quoted ("" for a quote inside); a quoted field does not
/// span lines, so that every error names the line it is on.
/// </summary>
public static class UsageCsv
{
    public static readonly IReadOnlyList<string> Columns = ["day", "port", "transport", "process", "executable", "hosts", "reachable"];

    private static readonly string[] Required = ["day", "port", "transport", "process", "hosts"];

    public static IEnumerable<UsageFileEntry> Read(TextReader reader)
    {
        Dictionary<string, int>? header = null;
        var fields = new List<string>();
        foreach (var (line, text) in TextLines.Read(reader))
        {
            if (text is null)
            {
                yield return Refused(line, "row", string.Create(CultureInfo.InvariantCulture, $"longer than {TextLines.MaxLength:N0} characters"));
                if (header is null) yield break;
                continue;
            }

            if (text.Trim().Length == 0) continue;
            if (Split(text, fields) is { } badQuoting)
            {
                yield return Refused(line, "row", badQuoting);
                if (header is null) yield break;
                continue;
            }

            if (header is null)
            {
                var (columns, badHeader) = Header(fields);
                if (badHeader is not null)
                {
                    yield return Refused(line, "header", badHeader);
                    yield break;
                }

                header = columns;
                continue;
            }

            if (fields.Count != header.Count)
            {
                yield return Refused(line, "row", $"{fields.Count} field(s), the header has {header.Count}");
                continue;
            }

            string? Field(string name) => header.TryGetValue(name, out var at) ? fields[at] : null;
            yield return UsageFileRows.Build(line, Field("day"), Field("port"), Field("transport"), Field("process"), Field("executable"), Field("hosts"),
                Field("reachable"));
        }

        if (header is null) yield return Refused(1, "header", $"the file is empty: a CSV needs a header ({string.Join(',', Columns)})");
    }

    private static (Dictionary<string, int> Columns, string? Error) Header(List<string> fields)
    {
        var columns = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < fields.Count; i++)
        {
            var name = fields[i].Trim().TrimStart('\uFEFF').ToLowerInvariant();
            if (!Columns.Contains(name))
            {
                return (columns, $"unknown column \"{UsageFileRows.Short(fields[i])}\" (the columns are {string.Join(',', Columns)}; the first line is the header)");
            }

            if (!columns.TryAdd(name, i)) return (columns, $"column \"{name}\" twice");
        }

        var missing = Required.Where(r => !columns.ContainsKey(r)).ToList();
        return missing.Count == 0 ? (columns, null) : (columns, $"no {string.Join(", ", missing)} column (the header needs {string.Join(',', Required)})");
    }

    /// <summary>Splits one line into <paramref name="fields"/>; returns why it cannot be split, or null.</summary>
    public static string? Split(string line, List<string> fields)
    {
        fields.Clear();
        var at = 0;
        while (true)
        {
            if (at < line.Length && line[at] == '"')
            {
                var quoted = new StringBuilder();
                at++;
                while (true)
                {
                    if (at >= line.Length) return "a quoted field is not closed on its line";
                    if (line[at] == '"')
                    {
                        if (at + 1 < line.Length && line[at + 1] == '"')
                        {
                            quoted.Append('"');
                            at += 2;
                            continue;
                        }

                        at++;
                        break;
                    }

                    quoted.Append(line[at++]);
                }

                fields.Add(quoted.ToString());
                if (at == line.Length) return null;
                if (line[at] != ',') return $"text after a closing quote at column {at + 1} (a quote inside a quoted field is written \"\")";
                at++;
                continue;
            }

            var end = line.IndexOf(',', at);
            var field = end < 0 ? line[at..] : line[at..end];
            if (field.IndexOf('"') is var quote and >= 0) return $"a quote inside an unquoted field at column {at + quote + 1} (quote the whole field)";
            fields.Add(field);
            if (end < 0) return null;
            at = end + 1;
        }
    }

    private static UsageFileEntry Refused(ulong line, string field, string reason) => new(line, null, new UsageFileError(line, field, reason));
}
