namespace PortHistory.Cli.Output;

/// <summary>A plain-text table with aligned columns; long cells are cut with an ellipsis.</summary>
public sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public int MaxCellWidth { get; init; } = 60;

    public TextTable Add(params string?[] cells)
    {
        _rows.Add([.. cells.Select(c => Cut(c ?? ""))]);
        return this;
    }

    public void WriteTo(TextWriter output)
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => i < r.Length ? r[i].Length : 0))).ToArray();
        Write(output, headers, widths);
        Write(output, [.. widths.Select(w => new string('-', w))], widths);
        foreach (var row in _rows) Write(output, row, widths);
    }

    private static void Write(TextWriter output, string[] cells, int[] widths)
    {
        var parts = cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]));
        output.WriteLine(string.Join("  ", parts).TrimEnd());
    }

    private string Cut(string text)
    {
        text = text.Replace('\n', ' ');
        return text.Length <= MaxCellWidth ? text : text[..(MaxCellWidth - 1)] + "…";
    }
}
