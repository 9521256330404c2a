using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace PortHistory.Server.Tests;

/// <summary>A server's Prometheus endpoint read as Prometheus reads it (cleartext HTTP/1.1), and its samples added up by name and labels.</summary>
internal static partial class PrometheusScrape
{
    public static HttpClient Client(Testing.ServerProcess server) => new()
    {
        BaseAddress = new Uri(server.MetricsAddress),
        DefaultRequestVersion = HttpVersion.Version11,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    public static async Task<IReadOnlyList<Sample>> ReadAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new Version(1, 1), response.Version);
        return Parse(await response.Content.ReadAsStringAsync());
    }

    /// <summary>How much the samples of a name (with the given labels) grew between two scrapes.</summary>
    public static double Delta(IReadOnlyList<Sample> after, IReadOnlyList<Sample> before, string name, params (string Key, string Value)[] labels) =>
        Sum(after, name, labels) - Sum(before, name, labels);

    public static double Sum(IReadOnlyList<Sample> samples, string name, params (string Key, string Value)[] labels) =>
        samples.Where(s => s.Name == name && labels.All(l => s.Label(l.Key) == l.Value)).Sum(s => s.Value);

    /// <summary>The Prometheus text format, as much as these tests need: one sample per line, comments skipped.</summary>
    private static List<Sample> Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"not a sample: {line}");
            var labels = LabelPair().Matches(match.Groups["labels"].Value).ToDictionary(m => m.Groups[1].Value, m => Regex.Unescape(m.Groups[2].Value));
            samples.Add(new Sample(match.Groups["name"].Value, labels, ParseValue(match.Groups["value"].Value)));
        }

        return samples;
    }

    private static double ParseValue(string value) => value switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ => double.Parse(value, CultureInfo.InvariantCulture),
    };

    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
    {
        public string? Label(string key) => Labels.GetValueOrDefault(key);
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\S+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
