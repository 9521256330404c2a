using System.Globalization;
using System.Text.Json;

namespace PortHistory.Cli.UsageFiles;

/// <summary>
/// Usage rows as newline-delimited JSON: one object per line with the CSV's field names, "day", "transport",
/// "process" and "executable" strings, "port", "hosts" and "reachable" numbers. Unknown or repeated fields are refused,
/// so a misspelt name cannot drop a value unseen.
/// </summary>
public static class UsageNdjson
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 4 };

    public static IEnumerable<UsageFileEntry> Read(TextReader reader)
    {
        foreach (var (line, text) in TextLines.Read(reader))
        {
            if (text is null)
            {
                yield return Refused(line, "row", string.Create(CultureInfo.InvariantCulture, $"longer than {TextLines.MaxLength:N0} characters"));
                continue;
            }

            if (text.Trim().Length == 0) continue;
            yield return Row(line, text);
        }
    }

    private static UsageFileEntry Row(ulong line, string text)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, Options);
        }
        catch (JsonException e)
        {
            return Refused(line, "row", $"not JSON: {UsageFileRows.Short(e.Message)}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) return Refused(line, "row", "not a JSON object");
            var values = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!UsageCsv.Columns.Contains(property.Name)) return Refused(line, "row", $"unknown field \"{UsageFileRows.Short(property.Name)}\" (the fields are {string.Join(", ", UsageCsv.Columns)})");
                if (values.ContainsKey(property.Name)) return Refused(line, property.Name, "given twice");
                var number = property.Name is "port" or "hosts" or "reachable";
                var value = property.Value;
                switch (value.ValueKind)
                {
                    case JsonValueKind.Null:
                        values[property.Name] = null;
                        break;
                    case JsonValueKind.Number when number:
                        values[property.Name] = value.GetRawText();
                        break;
                    case JsonValueKind.String when !number:
                        values[property.Name] = value.GetString();
                        break;
                    default:
                        return Refused(line, property.Name, number ? $"must be a number, got {Kind(value)}" : $"must be a string, got {Kind(value)}");
                }
            }

            string? Field(string name) => values.GetValueOrDefault(name);
            return UsageFileRows.Build(line, Field("day"), Field("port"), Field("transport"), Field("process"), Field("executable"), Field("hosts"), Field("reachable"));
        }
    }

    private static string Kind(JsonElement value) => value.ValueKind.ToString().ToLowerInvariant();

    private static UsageFileEntry Refused(ulong line, string field, string reason) => new(line, null, new UsageFileError(line, field, reason));
}
