using System.Text;

namespace PortHistory.Cli.UsageFiles;

/// <summary>
/// The lines of a text, numbered from 1, each at most <see cref="MaxLength"/> characters: a file without line breaks
/// is refused line by line instead of being read into memory whole.
/// </summary>
public static class TextLines
{
    public const int MaxLength = 64 * 1024;

    /// <returns>Each line without its line break; Text is null for a line longer than <see cref="MaxLength"/>.</returns>
    public static IEnumerable<(ulong Number, string? Text)> Read(TextReader reader)
    {
        var buffer = new char[16 * 1024];
        var line = new StringBuilder();
        var number = 1ul;
        var tooLong = false;
        int read;
        while ((read = reader.Read(buffer, 0, buffer.Length)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                var c = buffer[i];
                if (c == '\n')
                {
                    yield return (number++, tooLong ? null : WithoutReturn(line));
                    line.Clear();
                    tooLong = false;
                }
                else if (!tooLong)
                {
                    if (line.Length >= MaxLength)
                    {
                        tooLong = true;
                        line.Clear();
                    }
                    else
                    {
                        line.Append(c);
                    }
                }
            }
        }

        if (line.Length > 0 || tooLong) yield return (number, tooLong ? null : WithoutReturn(line));
    }

    private static string WithoutReturn(StringBuilder line) =>
        line.Length > 0 && line[^1] == '\r' ? line.ToString(0, line.Length - 1) : line.ToString();
}
