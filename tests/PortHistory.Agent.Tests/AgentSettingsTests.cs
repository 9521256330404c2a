using PortHistory.Agent.Scanning;

namespace PortHistory.Agent.Tests;

public sealed class AgentSettingsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("porthistory-agent-settings-").FullName;
    private readonly Dictionary<string, string> _environment = [];

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private AgentSettings Resolve(
        string? server = null, string? token = "t", string? tokenFile = null, string? hostRef = "host-a", string? interval = null, int batchSize = 500,
        bool dryRun = false, string procRoot = "/proc", IEnumerable<string>? machineIdFiles = null, string? spoolMaxBytes = null,
        bool allowInsecure = false, Func<string, string?>? sourceOf = null) =>
        AgentSettings.Resolve(server, token, tokenFile, hostRef, interval, batchSize, once: false, dryRun, procRoot,
            name => _environment.GetValueOrDefault(name), machineIdFiles, spoolDirectory: _directory, spoolMaxBytes: spoolMaxBytes,
            allowInsecure: allowInsecure, sourceOf: sourceOf);

    [Theory]
    [InlineData("60s", 60_000)]
    [InlineData("5m", 300_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1500ms", 1_500)]
    [InlineData("90", 90_000)]
    [InlineData(" 2.5s ", 2_500)]
    public void Intervals_are_durations_with_a_unit(string text, int milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), AgentSettings.ParseInterval(text));

    [Theory]
    [InlineData("")]
    [InlineData("5x")]
    [InlineData("s")]
    [InlineData("-5s")]
    [InlineData("0s")]
    [InlineData("500ms")]
    [InlineData("99999999999999h")]
    public void Bad_or_too_short_intervals_are_usage_errors(string text) =>
        Assert.Throws<UsageException>(() => AgentSettings.ParseInterval(text));

    [Fact]
    public void The_heartbeat_defaults_to_a_minute_and_is_a_duration_of_at_least_a_second()
    {
        AgentSettings Settings(string? heartbeat) => AgentSettings.Resolve(null, "t", null, "host-a", null, 500, once: false, dryRun: false, "/proc",
            _ => null, spoolDirectory: _directory, heartbeat: heartbeat);

        Assert.Equal(TimeSpan.FromSeconds(60), Settings(null).Heartbeat);
        Assert.Equal(TimeSpan.FromMinutes(5), Settings("5m").Heartbeat);
        Assert.StartsWith("--heartbeat must be at least 1s", Assert.Throws<UsageException>(() => Settings("500ms")).Message, StringComparison.Ordinal);
        Assert.StartsWith("--heartbeat must be a duration", Assert.Throws<UsageException>(() => Settings("often")).Message, StringComparison.Ordinal);
        Assert.False(Settings(null).FullReports);
    }

    [Theory]
    [InlineData("db", "db")]
    [InlineData(null, "")]
    public void A_host_group_is_taken_as_given_or_none(string? option, string expected) =>
        Assert.Equal(expected, AgentSettings.Resolve(null, "t", null, "host-a", null, 500, once: false, dryRun: false, "/proc",
            _ => null, spoolDirectory: _directory, hostGroup: option).HostGroup);

    [Theory]
    [InlineData("")]
    [InlineData("db/primary")]
    [InlineData("two words")]
    [InlineData("\u0007bell")]
    public void A_host_group_the_server_would_refuse_is_a_usage_error(string group) =>
        Assert.Throws<UsageException>(() => AgentSettings.CheckHostGroup(group));

    [Fact]
    public void The_server_comes_from_the_option_then_the_environment_then_the_default()
    {
        Assert.Equal(new Uri("http://127.0.0.1:7710"), Resolve().Server);
        _environment["PORTHISTORY_SERVER"] = "https://porthistory.example:443";
        Assert.Equal(new Uri("https://porthistory.example:443"), Resolve().Server);
        Assert.Equal(new Uri("https://10.0.0.5:7710"), Resolve(server: "https://10.0.0.5:7710").Server);
        Assert.Throws<UsageException>(() => Resolve(server: "10.0.0.5:7710"));
    }

    [Theory]
    [InlineData("http://127.0.0.1:7710")]
    [InlineData("http://127.200.3.4:7710")]
    [InlineData("http://[::1]:7710")]
    [InlineData("http://[::ffff:127.0.0.1]:7710")]
    [InlineData("http://localhost:7710")]
    [InlineData("http://LOCALHOST")]
    [InlineData("https://porthistory.example:7710")]
    [InlineData("https://10.0.0.5")]
    public void Https_anywhere_and_plain_http_on_this_host_are_allowed(string server) => Assert.Equal(new Uri(server), Resolve(server: server).Server);

    [Theory]
    [InlineData("http://10.0.0.5:7710")]
    [InlineData("http://porthistory.example")]
    [InlineData("http://localhost.example.com")]
    [InlineData("http://128.0.0.1")]
    [InlineData("http://[::2]")]
    [InlineData("http://0.0.0.0:7710")]
    public void Plain_http_to_another_host_is_refused_unless_allowed(string server)
    {
        var refused = Assert.Throws<UsageException>(() => Resolve(server: server));
        Assert.Contains("unencrypted", refused.Message, StringComparison.Ordinal);
        Assert.Contains("--allow-insecure", refused.Message, StringComparison.Ordinal);
        _environment["PORTHISTORY_SERVER"] = server;
        Assert.Throws<UsageException>(() => Resolve());

        Assert.Equal(new Uri(server), Resolve(server: server, allowInsecure: true).Server);
        Assert.Equal(new Uri(server), Resolve(allowInsecure: true).Server);
    }

    [Fact]
    public void The_token_comes_from_the_option_else_the_environment_else_the_token_file()
    {
        var file = Path.Combine(_directory, "token");
        File.WriteAllText(file, "from-file\n");

        Assert.Equal("from-file", Resolve(token: null, tokenFile: file).Token!());
        _environment["PORTHISTORY_TOKEN"] = "from-env";
        Assert.Equal("from-option", Resolve(token: "from-option").Token!());
        Assert.Equal("from-env", Resolve(token: null).Token!());
    }

    [Fact]
    public void A_token_and_a_token_file_together_are_refused_naming_where_each_came_from()
    {
        var file = Path.Combine(_directory, "token");
        File.WriteAllText(file, "from-file\n");
        const string config = "/etc/porthistory/agent.conf";
        Func<string, string?> fromFile(params string[] keys) => key => keys.Contains(key) ? $"{key} ({config} line {(key == "token" ? 2 : 4)})" : null;

        string Refusal(string? token, Func<string, string?>? sourceOf = null, bool dryRun = false) =>
            Assert.Throws<UsageException>(() => Resolve(token: token, tokenFile: file, sourceOf: sourceOf, dryRun: dryRun)).Message;

        Assert.Equal("a token and a token file are both given: --token (flag) and --token-file (flag); keep one", Refusal("x"));
        Assert.Contains($"--token (flag) and token-file ({config} line 4)", Refusal("x", fromFile("token-file")), StringComparison.Ordinal);
        Assert.Contains($"token ({config} line 2) and --token-file (flag)", Refusal("x", fromFile("token")), StringComparison.Ordinal);
        Assert.Contains($"token ({config} line 2) and token-file ({config} line 4)", Refusal("x", fromFile("token", "token-file")), StringComparison.Ordinal);
        // A dry run needs no token, but a settings mistake is still one.
        Assert.Contains("--token (flag) and --token-file (flag)", Refusal("x", dryRun: true), StringComparison.Ordinal);

        _environment["PORTHISTORY_TOKEN"] = "from-env";
        Assert.Contains("$PORTHISTORY_TOKEN (environment) and --token-file (flag)", Refusal(null), StringComparison.Ordinal);
        Assert.Contains($"$PORTHISTORY_TOKEN (environment) and token-file ({config} line 4)", Refusal(null, fromFile("token-file")), StringComparison.Ordinal);
    }

    [Fact]
    public void A_token_file_is_read_again_for_each_send_so_it_can_be_rotated()
    {
        var file = Path.Combine(_directory, "token");
        File.WriteAllText(file, "first");
        var token = Resolve(token: null, tokenFile: file).Token!;

        File.WriteAllText(file, "second\n");

        Assert.Equal("second", token());
    }

    [Fact]
    public void Without_a_token_only_a_dry_run_may_start()
    {
        Assert.Throws<UsageException>(() => Resolve(token: null));
        Assert.Throws<UsageException>(() => Resolve(token: null, tokenFile: Path.Combine(_directory, "missing")));
        Assert.Null(Resolve(token: null, dryRun: true).Token);
    }

    [Fact]
    public void Batch_size_and_proc_root_are_checked()
    {
        Assert.Throws<UsageException>(() => Resolve(batchSize: 0));
        Assert.Throws<UsageException>(() => Resolve(procRoot: Path.Combine(_directory, "no-proc")));
    }

    [Fact]
    public void The_host_ref_is_a_hash_of_the_machine_id_unless_given()
    {
        var machineId = Path.Combine(_directory, "machine-id");
        File.WriteAllText(machineId, "0123456789abcdef0123456789abcdef\n");

        // sha256("porthistory:0123456789abcdef0123456789abcdef"), first 32 hex digits (computed independently).
        Assert.Equal("307beae093453fca630b68cc1712964f", Resolve(hostRef: null, machineIdFiles: [machineId]).HostRef);
        Assert.Equal("rack7-node3", Resolve(hostRef: " rack7-node3 ", machineIdFiles: [machineId]).HostRef);
        Assert.Throws<UsageException>(() => Resolve(hostRef: null, machineIdFiles: [Path.Combine(_directory, "none")]));
        Assert.Throws<UsageException>(() => Resolve(hostRef: new string('h', HostRefs.MaxLength + 1)));
    }

    [Theory]
    [InlineData("1048576", 1L << 20)]
    [InlineData("64MiB", 64L << 20)]
    [InlineData("64M", 64L << 20)]
    [InlineData(" 512KiB ", 512L << 10)]
    [InlineData("2GiB", 2L << 30)]
    public void Spool_sizes_are_bytes_with_an_optional_binary_unit(string text, long bytes) => Assert.Equal(bytes, AgentSettings.ParseSize(text));

    [Theory]
    [InlineData("")]
    [InlineData("MiB")]
    [InlineData("64 MB")]
    [InlineData("-1")]
    [InlineData("1.5GiB")]
    [InlineData("99999999999999999999GiB")]
    public void Unreadable_spool_sizes_are_usage_errors(string text) => Assert.Throws<UsageException>(() => AgentSettings.ParseSize(text));

    [Fact]
    public void The_spool_bound_defaults_to_64_MiB_and_stays_between_1_MiB_and_1_TiB()
    {
        Assert.Equal(64L << 20, Resolve().SpoolMaxBytes);
        Assert.Equal(1L << 20, Resolve(spoolMaxBytes: "1MiB").SpoolMaxBytes);
        Assert.Throws<UsageException>(() => Resolve(spoolMaxBytes: "512KiB"));
        Assert.Throws<UsageException>(() => Resolve(spoolMaxBytes: "2000GiB"));
        Assert.Throws<UsageException>(() => Resolve(spoolMaxBytes: "9999999999999999GiB"));
    }

    [Fact]
    public void The_spool_directory_is_the_option_else_var_lib_for_root_else_the_user_s_state_directory()
    {
        _environment["HOME"] = "/home/ops";
        var resolve = (string? option, bool root) => AgentSettings.ResolveSpoolDirectory(option, name => _environment.GetValueOrDefault(name), root);

        Assert.Equal("/var/lib/porthistory-agent/spool", resolve(null, true));
        Assert.Equal("/home/ops/.local/state/porthistory-agent/spool", resolve(null, false));
        _environment["XDG_STATE_HOME"] = "/srv/state";
        Assert.Equal("/srv/state/porthistory-agent/spool", resolve(null, false));
        Assert.Equal("/data/spool", resolve("/data/spool", true));
        Assert.Equal(Path.GetFullPath("relative/spool"), resolve("relative/spool", false));
        Assert.Throws<UsageException>(() => resolve(" ", true));
        // Under the packaged unit: a dynamic user (not root) whose state directory systemd names.
        _environment["STATE_DIRECTORY"] = "/var/lib/porthistory-agent";
        Assert.Equal("/var/lib/porthistory-agent/spool", resolve(null, false));
        Assert.Equal("/data/spool", resolve("/data/spool", false));
        _environment.Clear();
        Assert.Throws<UsageException>(() => resolve(null, false));
    }
}
