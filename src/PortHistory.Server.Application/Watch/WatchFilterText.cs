using System.Text;
using PortHistory.Contracts.V1;
using PortHistory.Registry.Model;

namespace PortHistory.Server.Application.Watch;

/// <summary>
/// A filter from words, as settings give it: ports "770-777", transports "udp", verdicts "squatter", kinds
/// "new-process". Enum words come from the contract's names, so values added there are understood here.
/// </summary>
public static class WatchFilterText
{
    /// <summary>The filter, or the reason (naming the setting) it is not one.</summary>
    public static (WatchFilter? Filter, string? Error) Parse(string[] ports, string[] transports, string[] verdicts, string[] processNames, string[] kinds)
    {
        if (ports.Length > WatchFilter.MaxRanges || processNames.Length > WatchFilter.MaxProcessNames) return (null, "too many ports or process names");
        var ranges = new List<PortSpan>();
        foreach (var text in ports)
        {
            if (!PortSpan.TryParse(text, out var range)) return (null, $"Ports: not a port or range within 0-65535: \"{text}\"");
            ranges.Add(range);
        }

        if (!Words<Transport>(transports, "Transports", out var t, out var error)) return (null, error);
        if (!Words<VerdictKind>(verdicts, "Verdicts", out var v, out error)) return (null, error);
        if (!Words<WatchEventKind>(kinds, "Kinds", out var k, out error)) return (null, error);
        foreach (var name in processNames)
        {
            if (PortHistory.Contracts.WireText.Check(name, WatchFilter.MaxProcessNameLength, required: true) is { } reason) return (null, $"ProcessNames: {reason}");
        }

        return (new WatchFilter(ranges, t, v, processNames.ToHashSet(StringComparer.OrdinalIgnoreCase), k), null);
    }

    /// <summary>"InsufficientEvidence" → "insufficient-evidence".</summary>
    public static string Word<TEnum>(TEnum value)
        where TEnum : struct, Enum
    {
        var name = value.ToString();
        var word = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) word.Append('-');
            word.Append(char.ToLowerInvariant(name[i]));
        }

        return word.ToString();
    }

    private static bool Words<TEnum>(string[] words, string setting, out IReadOnlySet<TEnum> values, out string? error)
        where TEnum : struct, Enum
    {
        var known = Enum.GetValues<TEnum>().Where(e => Convert.ToInt32(e, System.Globalization.CultureInfo.InvariantCulture) != 0)
            .ToDictionary(Word, e => e, StringComparer.OrdinalIgnoreCase);
        var set = new HashSet<TEnum>();
        values = set;
        error = null;
        foreach (var word in words)
        {
            if (!known.TryGetValue(word.Trim(), out var value))
            {
                error = $"{setting}: unknown \"{word}\" (use {string.Join(", ", known.Keys)})";
                return false;
            }

            set.Add(value);
        }

        return true;
    }
}
