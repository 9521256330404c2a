using System.Globalization;
using System.Text;

namespace PortHistory.Agent.Sending;

/// <summary>
/// Text from the server (error messages, reasons, ids) made safe to print to a terminal or a log: a hostile or broken
/// server must not move the cursor, clear the screen or reverse the text around it. Control, format (bidi overrides and
/// isolates, zero-width characters) and line or paragraph separator characters are shown escaped ("\u001b"), lone
/// surrogates as U+FFFD, and the text is cut at a length no message needs.
/// </summary>
public static class ServerText
{
    public const int MaxLength = 1000;

    public static string Printable(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var printable = new StringBuilder(Math.Min(text.Length, MaxLength));
        for (var i = 0; i < text.Length && printable.Length < MaxLength; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                printable.Append(c).Append(text[++i]);
                continue;
            }

            switch (char.GetUnicodeCategory(c))
            {
                case UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator:
                    printable.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    break;
                case UnicodeCategory.Surrogate:
                    printable.Append('\uFFFD');
                    break;
                default:
                    printable.Append(c);
                    break;
            }
        }

        return printable.Length < MaxLength || printable.Length == text.Length ? printable.ToString() : printable.Append("...").ToString();
    }
}
