using System.Text.RegularExpressions;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.Formats;

/// <summary>
/// Reads the "Decimal  Keyword  Description  References" tables of RFC 990, 1010 and 1060. They give no protocol
/// (the number is assigned for TCP and, "to the extent possible", UDP) and the keyword column is often empty
/// ("1-4  Unassigned"), so the keyword is recognised by the column it starts in.
/// </summary>
internal sealed partial class DecimalTableReader
{
    private readonly TableContext _context;
    private readonly int _keywordColumn;
    private RecordDraft? _last;

    public DecimalTableReader(TableContext context, int keywordColumn)
    {
        _context = context;
        _keywordColumn = keywordColumn;
    }

    public void Read(int line, string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return;
        var match = EntryPattern().Match(text);
        if (!match.Success || match.Groups["port"].Index >= _keywordColumn)
        {
            if (_last is not null && text.Length - text.TrimStart().Length >= _context.DescriptionColumn - 4)
            {
                _last.AppendDescription(text);
                return;
            }

            _context.Warn(line, "not a port entry or continuation line", text.Trim());
            return;
        }

        if (!PortSpan.TryParse(match.Groups["port"].Value, out var ports))
        {
            _context.Warn(line, $"port \"{match.Groups["port"].Value}\" is not a port number or range 0-65535", text.Trim());
            return;
        }

        var draft = new RecordDraft { Line = line, Section = _context.Section, Ports = ports, Transport = TransportProtocol.Unspecified };
        var rest = match.Groups["rest"].Value;
        var restStart = match.Groups["rest"].Index;
        // A keyword starts in (or one column around) the keyword column; text further right is the description.
        if (rest.Length > 0 && restStart <= _keywordColumn + 1 && restStart < _context.DescriptionColumn - 1)
        {
            var end = rest.IndexOf(' ');
            draft.ServiceName = end < 0 ? rest : rest[..end];
            rest = end < 0 ? "" : rest[end..];
        }

        draft.Description = _context.TakeReferences(rest, draft);
        _last = draft;
        _context.Add(draft);
    }

    [GeneratedRegex(@"^\s*(?<port>\d{1,6}(?:-\d{1,6})?)\s+(?<rest>\S.*?)\s*$")]
    private static partial Regex EntryPattern();
}
