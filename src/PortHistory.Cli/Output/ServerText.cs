using System.Globalization;
using System.Text;

namespace PortHistory.Cli.Output;

/// <summary>Text a server sent, made safe to put on a terminal or in a log line.</summary>
public static class ServerText
{
    /// <summary>Longer messages are cut: a line of progress, not a document.</summary>
    public const int MaxLength = 500;

    /// <summary>
    /// Control and format characters become '?': an escape sequence from the wire must not move the cursor, recolour
    /// the terminal or break a log line in two, and a bidi override must not reorder what the reader sees.
    /// </summary>
    public static string Printable(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var builder = new StringBuilder(Math.Min(text.Length, MaxLength + 1));
        foreach (var c in text.Length <= MaxLength ? text : text[..MaxLength])
        {
            var unsafeChar = char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format;
            builder.Append(unsafeChar ? '?' : c);
        }

        if (text.Length > MaxLength) builder.Append('…');
        return builder.ToString();
    }
}
