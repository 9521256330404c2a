using System.CommandLine;
using CsCheck;

namespace PortHistory.Agent.Tests;

public sealed class AgentConfigFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("porthistory-agent-config-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string WriteFile(string text, string name = "agent.conf")
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Comments_blank_lines_spacing_and_crlf_are_ignored()
    {
        var file = AgentConfigFile.Parse("agent.conf",
            "# PortHistory agent\n\n  server=http://10.0.0.5:7710  \r\n\t# interval = 1s\ninterval =\t5m\nproc-root = /host/proc # not a comment\n");

        Assert.Equal(
            [new("server", "http://10.0.0.5:7710", 3), new("interval", "5m", 5), new("proc-root", "/host/proc # not a comment", 6)],
            file.Entries);
    }

    private static readonly Gen<string> Keys = Gen.Select(Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789"], Gen.String[Gen.Char["abcz019-"], 0, 20])
        .Select((first, rest) => first + rest);

    private static readonly Gen<string> Values = Gen.String[Gen.Char[" \t!\"#$%&'()*+,-./09:;<=>?@AZaz[]\\^_`{|}~éü€"], 1, 30]
        .Where(value => value.Trim(' ', '\t') == value);

    private static readonly Gen<string> Spacing = Gen.Int[0, 4].Select(i => new[] { "", " ", "  ", "\t", " \t" }[i]);

    /// <summary>Rendered lines of a valid file, and the entries it must give (later duplicates of a key are left out).</summary>
    private static readonly Gen<(List<string> Lines, List<AgentConfigFile.Entry> Entries)> ValidFiles =
        Gen.OneOf(
                Gen.Select(Keys, Values, Spacing, Spacing, Gen.Bool).Select((key, value, before, after, crlf) =>
                    (Line: $"{before}{key}{after}={before}{value}{after}{(crlf ? "\r" : "")}", Entry: ((string Key, string Value)?)(key, value))),
                Gen.Select(Spacing, Gen.String[Gen.Char[" #=abc-"], 0, 20]).Select((space, text) => (Line: $"{space}#{text}", Entry: ((string Key, string Value)?)null)),
                Spacing.Select(space => (Line: space, Entry: ((string Key, string Value)?)null)))
            .List[0, 30]
            .Select(items =>
            {
                var lines = new List<string>();
                var entries = new List<AgentConfigFile.Entry>();
                foreach (var (line, entry) in items)
                {
                    if (entry is { } setting && entries.Exists(e => e.Key == setting.Key)) continue;
                    lines.Add(line);
                    if (entry is { } kept) entries.Add(new AgentConfigFile.Entry(kept.Key, kept.Value, lines.Count));
                }

                return (lines, entries);
            });

    [Fact]
    public void Any_valid_file_gives_its_settings_with_their_line_numbers() =>
        ValidFiles.Sample(file => Assert.Equal(file.Entries, AgentConfigFile.Parse("agent.conf", string.Join('\n', file.Lines)).Entries));

    private static readonly Gen<string> BadLines = Gen.OneOf(
        Keys,
        Values.Where(value => !value.Contains('=') && !value.TrimStart().StartsWith('#')),
        Gen.Select(Keys, Values).Select((key, value) => $"{key.ToUpperInvariant()}X = {value}"),
        Gen.Select(Keys, Values).Select((key, value) => $"--{key} = {value}"),
        Gen.Select(Keys, Keys, Values).Select((a, b, value) => $"{a} {b} = {value}"),
        Gen.Select(Keys, Spacing).Select((key, space) => $"{key} ={space}"),
        Values.Select(value => $"= {value}"),
        Gen.Select(Keys, Values, Gen.Char['\0', '\u001f'].Where(c => c != '\t' && c != '\n' && c != '\r')).Select((key, value, control) => $"{key} = {value}{control}x"));

    [Fact]
    public void A_malformed_line_is_a_usage_error_naming_the_file_and_that_line() =>
        Gen.Select(ValidFiles, BadLines, Gen.Int[0, 1000]).Sample((file, bad, where) =>
        {
            var at = where % (file.Lines.Count + 1);
            var lines = file.Lines.ToList();
            lines.Insert(at, bad);

            var error = Assert.Throws<UsageException>(() => AgentConfigFile.Parse("/etc/x/agent.conf", string.Join('\n', lines)));

            Assert.StartsWith($"/etc/x/agent.conf:{at + 1}: ", error.Message, StringComparison.Ordinal);
        });

    [Fact]
    public void A_key_set_twice_names_both_lines()
    {
        var error = Assert.Throws<UsageException>(() => AgentConfigFile.Parse("a.conf", "interval = 5m\n# again\ninterval = 10m\n"));
        Assert.Equal("a.conf:3: interval is already set on line 1", error.Message);
    }

    /// <summary>A command line like the agent's, with options of every kind and a subcommand, to show that any long option is a valid key.</summary>
    private static (RootCommand Root, Option<string?> Name, Option<int> Count, Option<bool> Verbose, Option<string?> Where) Command()
    {
        var name = new Option<string?>("--name");
        var count = new Option<int>("--count") { DefaultValueFactory = _ => 7 };
        var verbose = new Option<bool>("--verbose");
        var where = new Option<string?>("--where");
        var status = new Command("status") { where };
        status.SetAction(_ => 0);
        var root = new RootCommand { name, count, verbose, AgentConfigFile.Option, status };
        root.SetAction(_ => 0);
        return (root, name, count, verbose, where);
    }

    [Fact]
    public void The_command_line_wins_over_the_file_and_the_file_over_defaults()
    {
        var (root, name, count, verbose, _) = Command();
        var path = WriteFile("name = from-file\nverbose = true\nwhere = -dash @at\n");

        var (fromFile, applied) = AgentConfigFile.ParseCommandLine(root, ["--config", path]);
        Assert.Empty(fromFile.Errors);
        Assert.Equal("from-file", fromFile.GetValue(name));
        Assert.True(fromFile.GetValue(verbose));
        Assert.Equal(7, fromFile.GetValue(count));
        Assert.Equal(["name", "verbose"], applied!.Entries.Select(e => e.Key));

        var (fromFlags, _) = AgentConfigFile.ParseCommandLine(root, ["--config", path, "--name", "from-flag", "--count", "3"]);
        Assert.Equal("from-flag", fromFlags.GetValue(name));
        Assert.Equal(3, fromFlags.GetValue(count));
    }

    [Fact]
    public void A_setting_of_another_subcommand_applies_there_only()
    {
        var (root, _, _, _, where) = Command();
        var path = WriteFile("name = n\nwhere = -dash @at\n");

        var (status, _) = AgentConfigFile.ParseCommandLine(root, ["status", "--config", path]);

        Assert.Empty(status.Errors);
        // Values that look like options or response files stay values.
        Assert.Equal("-dash @at", status.GetValue(where));
    }

    [Fact]
    public void The_default_file_may_be_missing_but_a_named_one_may_not()
    {
        var (root, name, _, _, _) = Command();
        var missing = Path.Combine(_directory, "missing.conf");

        var (parse, applied) = AgentConfigFile.ParseCommandLine(root, ["--name", "x"], defaultPath: missing);
        Assert.Equal("x", parse.GetValue(name));
        Assert.Null(applied);

        var error = Assert.Throws<UsageException>(() => AgentConfigFile.ParseCommandLine(root, ["--config", missing]));
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_file_applies_without_config()
    {
        var (root, name, _, _, _) = Command();
        var (parse, _) = AgentConfigFile.ParseCommandLine(root, [], defaultPath: WriteFile("name = default-file\n"));
        Assert.Equal("default-file", parse.GetValue(name));
    }

    [Theory]
    [InlineData("name = n\nbogus = 1\n", 2)]
    [InlineData("help = true\n", 1)]
    [InlineData("config = /etc/other.conf\n", 1)]
    public void Unknown_keys_are_usage_errors_naming_file_and_line(string text, int line)
    {
        var (root, _, _, _, _) = Command();
        var path = WriteFile(text);

        var error = Assert.Throws<UsageException>(() => AgentConfigFile.ParseCommandLine(root, ["--config", path]));

        Assert.StartsWith($"{path}:{line}: unknown setting", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_oversized_or_non_utf8_file_is_refused()
    {
        var big = WriteFile(new string('#', AgentConfigFile.MaxBytes + 1), "big.conf");
        Assert.Throws<UsageException>(() => AgentConfigFile.Read(big, required: true));

        var binary = Path.Combine(_directory, "binary.conf");
        File.WriteAllBytes(binary, [0x6e, 0x3d, 0xff, 0xfe]);
        Assert.Contains("UTF-8", Assert.Throws<UsageException>(() => AgentConfigFile.Read(binary, required: true)).Message, StringComparison.Ordinal);
    }
}
