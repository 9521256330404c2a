using System.Text;

namespace PortHistory.Registry.Formats;

/// <summary>Line splitting and tab expansion shared by the text formats.</summary>
internal static class TextLines
{
    /// <summary>Splits on LF, CRLF or a lone CR; the result's index + 1 is the 1-based line number.</summary>
    public static string[] Split(string text)
    {
        var lines = new List<string>(text.Length / 40 + 16);
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c is not ('\n' or '\r')) continue;
            lines.Add(text[start..i]);
            if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n') i++;
            start = i + 1;
        }

        if (start < text.Length) lines.Add(text[start..]);
        return [.. lines];
    }

    /// <summary>Expands TABs to 8-column stops, as expand(1) does (rfc1340.txt is tab-compressed).</summary>
    public static string ExpandTabs(string line)
    {
        if (!line.Contains('\t')) return line;
        var builder = new StringBuilder(line.Length + 32);
        foreach (var c in line)
        {
            if (c == '\t')
            {
                builder.Append(' ', 8 - builder.Length % 8);
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    public static string CollapseWhitespace(string text)
    {
        if (IsCollapsed(text)) return text;
        var builder = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = builder.Length > 0;
                continue;
            }

            if (pendingSpace) builder.Append(' ');
            pendingSpace = false;
            builder.Append(c);
        }

        return builder.ToString();
    }

    /// <summary>Most text is already single-spaced and trimmed; it is returned as it is instead of copied.</summary>
    private static bool IsCollapsed(string text)
    {
        if (text.Length == 0) return true;
        if (char.IsWhiteSpace(text[0]) || char.IsWhiteSpace(text[^1])) return false;
        for (var i = 1; i < text.Length - 1; i++)
        {
            var c = text[i];
            if (c == ' ' ? text[i + 1] == ' ' : char.IsWhiteSpace(c)) return false;
        }

        return true;
    }
}
