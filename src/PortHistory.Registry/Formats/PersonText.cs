using System.Globalization;
using System.Text.RegularExpressions;
using PortHistory.Registry.Model;

namespace PortHistory.Registry.Formats;

/// <summary>Reads contact text of the text formats: "Josyula R. Rao &lt;jrrao@watson.ibm.com&gt;", "… June 2003".</summary>
internal static partial class PersonText
{
    /// <summary>People named on a contact line, and a trailing "Month Year" date if there is one (as "2003-06").</summary>
    public static (List<RegistryPerson> People, string? Date) Parse(string text)
    {
        var people = new List<RegistryPerson>();
        text = text.Trim();
        string? date = null;
        var trailingDate = TrailingDatePattern().Match(text);
        if (trailingDate.Success)
        {
            date = MonthYear(trailingDate.Groups["month"].Value, trailingDate.Groups["year"].Value);
            if (date is not null) text = text[..trailingDate.Index].TrimEnd();
        }

        foreach (Match match in AddressPattern().Matches(text))
        {
            var name = match.Groups["name"].Value.Trim().Trim(',', ';').Trim();
            people.Add(new RegistryPerson(null, name.Length == 0 ? null : name, Email(match.Groups["email"].Value)));
        }

        if (people.Count == 0 && text.Length > 0) people.Add(new RegistryPerson(null, text, null));
        return (people, date);
    }

    /// <summary>True when a line can only be a contact: it carries an address in angle brackets.</summary>
    public static bool HasAddress(string text) => AddressPattern().IsMatch(text);

    /// <summary>Normalises an address: the 2008 text edition and XML people write '&amp;' for '@'.</summary>
    public static string? Email(string raw)
    {
        var email = raw.Trim().Trim('<', '>').Trim();
        if (email.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase)) email = email[7..];
        if (email.Length == 0 || email.Trim('-').Equals("none", StringComparison.OrdinalIgnoreCase)) return null;
        if (!email.Contains('@') && email.Contains('&')) email = email.Replace('&', '@');
        return email;
    }

    private static string? MonthYear(string month, string year)
    {
        if (!DateTime.TryParseExact($"{month} {year}", ["MMMM yyyy", "MMM yyyy"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
        {
            return null;
        }

        return parsed.ToString("yyyy-MM", CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"(?<name>[^<>]*?)\s*<(?<email>[^<>]*)>+")]
    private static partial Regex AddressPattern();

    [GeneratedRegex(@"\s(?<month>[A-Z][a-z]+)\.?\s+(?<year>(?:19|20)\d\d)\s*$")]
    private static partial Regex TrailingDatePattern();
}
