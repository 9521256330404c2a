using System.Text;
using System.Text.RegularExpressions;

namespace PortHistory.Testing;

/// <summary>One generated IANA XML edition: its &lt;updated&gt; date and its bytes.</summary>
public sealed record WeeklyEdition(int Index, DateOnly Updated, byte[] Bytes);

/// <summary>
/// A long weekly history of the IANA XML registry, derived from the four real XML editions: the record-level
/// differences between consecutive real editions (2013-02-18 → 2017-03-10 → 2024-04-30 → 2026-08-17: records
/// changed, added, removed, compared as the text of each &lt;record&gt; element) are applied a few at a time, in the
/// order they appear in the newer edition, so that version i holds the first ⌈i·D/(n−1)⌉ of all D differences and
/// the last version lists exactly the 2026-08-17 records. Every version takes the header and the people section of
/// the newest edition and is dated a week after the one before. Deterministic: the same count gives the same bytes.
/// </summary>
public static partial class WeeklyEditions
{
    public static readonly IReadOnlyList<string> Anchors =
    [
        "service-names-port-numbers_2013-02-18.xml", "service-names-port-numbers_2017-03-10.xml",
        "service-names-port-numbers_2024-04-30.xml", "service-names-port-numbers_2026-08-17.xml",
    ];

    public static readonly DateOnly FirstDate = new(2013, 2, 18);

    /// <summary><paramref name="count"/> consecutive versions, generated one at a time.</summary>
    public static IEnumerable<WeeklyEdition> Generate(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 2);
        var anchors = Anchors.Select(name => Split(File.ReadAllText(RegistryData.PathOf(name), Encoding.UTF8))).ToList();
        var newest = anchors[^1];
        var operations = new List<Operation>();
        for (var a = 1; a < anchors.Count; a++) operations.AddRange(Differences(anchors[a - 1].Records, anchors[a].Records));

        var running = new List<(string Key, string Text)>(anchors[0].Records);
        var applied = 0;
        for (var i = 0; i < count; i++)
        {
            var target = (int)Math.Ceiling((double)i * operations.Count / (count - 1));
            for (; applied < target; applied++) Apply(running, operations[applied]);
            var updated = FirstDate.AddDays(7 * i);
            var text = new StringBuilder(newest.Prefix.Length + newest.Suffix.Length + running.Sum(r => r.Text.Length));
            text.Append(UpdatedElement().Replace(newest.Prefix, $"<updated>{updated:yyyy-MM-dd}</updated>", 1));
            foreach (var (_, record) in running) text.Append(record);
            text.Append(newest.Suffix);
            yield return new WeeklyEdition(i, updated, Encoding.UTF8.GetBytes(text.ToString()));
        }
    }

    /// <summary>How many record differences the real editions hold, spread over every generated history.</summary>
    public static int DifferenceCount()
    {
        var anchors = Anchors.Select(name => Split(File.ReadAllText(RegistryData.PathOf(name), Encoding.UTF8))).ToList();
        return Enumerable.Range(1, anchors.Count - 1).Sum(a => Differences(anchors[a - 1].Records, anchors[a].Records).Count);
    }

    private sealed record Operation(string Key, string? Text, string? After);

    private sealed record SplitEdition(string Prefix, List<(string Key, string Text)> Records, string Suffix);

    private static SplitEdition Split(string xml)
    {
        var matches = RecordElement().Matches(xml);
        var records = new List<(string, string)>(matches.Count);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (Match match in matches)
        {
            var text = match.Value;
            var key = $"{Field(text, "name")}|{Field(text, "protocol")}|{Field(text, "number")}";
            seen[key] = seen.GetValueOrDefault(key) + 1;
            records.Add(($"{key}#{seen[key]}", text));
        }

        var first = matches[0].Index;
        var end = matches[^1].Index + matches[^1].Length;
        return new SplitEdition(xml[..first], records, xml[end..]);
    }

    private static string Field(string record, string element)
    {
        var match = Regex.Match(record, $"<{element}>([^<]*)</{element}>");
        return match.Success ? match.Groups[1].Value.Trim() : "";
    }

    /// <summary>Changes and additions in the newer edition's order (an addition goes after the record it follows there), then removals.</summary>
    private static List<Operation> Differences(List<(string Key, string Text)> older, List<(string Key, string Text)> newer)
    {
        var before = older.ToDictionary(r => r.Key, r => r.Text, StringComparer.Ordinal);
        var after = newer.Select(r => r.Key).ToHashSet(StringComparer.Ordinal);
        var operations = new List<Operation>();
        string? previous = null;
        foreach (var (key, text) in newer)
        {
            if (!before.TryGetValue(key, out var old) || old != text) operations.Add(new Operation(key, text, previous));
            previous = key;
        }

        operations.AddRange(older.Where(r => !after.Contains(r.Key)).Select(r => new Operation(r.Key, null, null)));
        return operations;
    }

    private static void Apply(List<(string Key, string Text)> running, Operation operation)
    {
        var at = running.FindIndex(r => r.Key == operation.Key);
        if (operation.Text is null)
        {
            if (at >= 0) running.RemoveAt(at);
            return;
        }

        if (at >= 0)
        {
            running[at] = (operation.Key, operation.Text);
            return;
        }

        var previous = operation.After is null ? -1 : running.FindIndex(r => r.Key == operation.After);
        running.Insert(previous + 1, (operation.Key, operation.Text));
    }

    [GeneratedRegex(@"(?s)  <record\b.*?</record>\r?\n")]
    private static partial Regex RecordElement();

    [GeneratedRegex(@"<updated>[^<]*</updated>")]
    private static partial Regex UpdatedElement();
}
