using CsCheck;
using PortHistory.Observations;

namespace PortHistory.Observations.Tests;

/// <summary>
/// Operators' expectations in the verdict rules: an expected process is expected whatever the registry says, another
/// process on a port with an expectation is unexpected, group rules speak only for their group, and once any
/// expectation exists an uncovered listener is unexpected rather than unregistered.
/// </summary>
public sealed class ExpectationRulesTests
{
    private static readonly VerdictOptions Options = new();
    private static readonly RegistrySide Wpages = new("wpages", ["wpages"], "rfc1340", "assigned");
    private static readonly RegistrySide Ssh = new("ssh", ["ssh"], "rfc1340", "assigned");
    private static readonly RegistrySide NotListed = new(null, [], null, "unassigned");
    private static readonly DateTime SetAt = new(2026, 11, 29, 0, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Rpc_statd_on_776_udp_with_an_rpc_statd_expectation_is_expected_and_the_reason_names_the_rule()
    {
        var verdict = Decide(776, Wpages, [Process("rpc.statd", hosts: 12)], Rule("776/udp", "rpc.statd", note: "NFS status monitor"));

        Assert.Equal(VerdictOutcome.Expected, verdict.Kind);
        Assert.Equal("wpages", verdict.AssignedService);
        Assert.Equal(["rpc.statd"], verdict.ObservedProcesses);
        Assert.StartsWith("expected: 776/udp rpc.statd (rule set by ops on 2026-11-29: NFS status monitor)", verdict.Reason, StringComparison.Ordinal);
        Assert.Contains("rpc.statd on 12 host(s)", verdict.Reason, StringComparison.Ordinal);
        Assert.Contains("the registry says wpages", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_process_on_776_with_an_rpc_statd_expectation_is_unexpected()
    {
        var verdict = Decide(776, Wpages, [Process("rpc.statd", hosts: 12), Process("mystery", hosts: 4)], Rule("776/udp", "rpc.statd"));

        Assert.Equal(VerdictOutcome.Unexpected, verdict.Kind);
        Assert.Equal(["mystery"], verdict.ObservedProcesses);
        Assert.StartsWith("unexpected: observed mystery on 4 host(s)", verdict.Reason, StringComparison.Ordinal);
        Assert.Contains("but expected: 776/udp rpc.statd (rule set by ops", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_expectation_wins_over_a_registry_match_too()
    {
        // sshd provides ssh, which the registry assigns: without a rule a match, with a rule for something else unexpected.
        Assert.Equal(VerdictOutcome.Match, Decide(22, Ssh, [Process("sshd", hosts: 5)]).Kind);
        Assert.Equal(VerdictOutcome.Unexpected, Decide(22, Ssh, [Process("sshd", hosts: 5)], Rule("22/tcp", "dropbear")).Kind);
        Assert.Equal(VerdictOutcome.Expected, Decide(22, Ssh, [Process("sshd", hosts: 5)], Rule("22/tcp", "sshd")).Kind);
    }

    [Fact]
    public void A_rule_may_name_the_service_a_process_provides_its_program_or_its_unit()
    {
        Assert.Equal(VerdictOutcome.Expected, Decide(22, Ssh, [Process("sshd", hosts: 5)], Rule("22/tcp", "SSH")).Kind);
        var java = new ObservedProcessSide("java (zookeeper.jar)", "/usr/bin/java", 4, 8, ProcessServiceMap.Default.Match("java", null, _ => false),
            new ProcessIdentity("java", "/usr/bin/java", "zookeeper.jar", "zookeeper.service"));
        Assert.Equal(VerdictOutcome.Expected, Decide(2181, NotListed, [java], Rule("2181/tcp", "zookeeper.jar")).Kind);
        Assert.Equal(VerdictOutcome.Expected, Decide(2181, NotListed, [java], Rule("2181/tcp", "zookeeper")).Kind);
        Assert.Equal(VerdictOutcome.Unexpected, Decide(2181, NotListed, [java], Rule("2181/tcp", "kafka.Kafka")).Kind);
    }

    [Fact]
    public void A_group_rule_speaks_only_for_processes_seen_in_its_group()
    {
        var inDb = Process("postgres", hosts: 6, groups: ["db"]);
        var inWeb = Process("postgres", hosts: 6, groups: ["web"]);
        var dbRule = Rule("5432/tcp", "postgres", group: "db");

        var expected = Decide(5432, NotListed, [inDb], dbRule);
        Assert.Equal(VerdictOutcome.Expected, expected.Kind);
        Assert.Contains("5432/tcp postgres in group db", expected.Reason, StringComparison.Ordinal);
        // No rule speaks for the web hosts: the registry's rules judge, and once rules exist an uncovered listener is unexpected.
        var uncovered = Decide(5432, NotListed, [inWeb], dbRule);
        Assert.Equal(VerdictOutcome.Unexpected, uncovered.Kind);
        Assert.Contains("no expectation covers the port", uncovered.Reason, StringComparison.Ordinal);
        // A covered process does not hide one no rule speaks for on the same port: the registry judges (mysql is not postgres).
        var mixed = Decide(5432, NotListed, [inDb, Process("mysqld", hosts: 6, groups: ["web"])], dbRule);
        Assert.NotEqual(VerdictOutcome.Expected, mixed.Kind);
        Assert.Contains("mysqld", mixed.Reason, StringComparison.Ordinal);
        // A rule for the group naming something else makes the group's process unexpected.
        Assert.Equal(VerdictOutcome.Unexpected, Decide(5432, NotListed, [inDb], Rule("5432/tcp", "mysqld", group: "db")).Kind);
        // Without host groups from the agents, a group rule speaks for nobody.
        Assert.Equal(VerdictOutcome.Unexpected, Decide(5432, NotListed, [Process("postgres", hosts: 6)], dbRule).Kind);
        Assert.Contains("no expectation covers", Decide(5432, NotListed, [Process("postgres", hosts: 6)], dbRule).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Once_the_fleet_has_expectations_an_uncovered_listener_on_an_unassigned_port_is_unexpected_not_unregistered()
    {
        var without = VerdictRules.Decide(4711, NotListed, [Process("myapp", hosts: 6)], 6, 1_000, Options);
        var with = VerdictRules.Decide(4711, NotListed, [Process("myapp", hosts: 6)], 6, 1_000, Options, new ExpectationSide([], FleetHasExpectations: true));

        Assert.Equal(VerdictOutcome.Unregistered, without!.Kind);
        Assert.Equal(VerdictOutcome.Unexpected, with!.Kind);
        // Assigned ports keep their registry verdicts: the assignment covers them.
        Assert.Equal(VerdictOutcome.Squatter,
            VerdictRules.Decide(776, Wpages, [Process("rpc.statd", hosts: 6)], 6, 1_000, Options, new ExpectationSide([], true))!.Kind);
    }

    [Fact]
    public void A_process_below_the_privacy_floor_is_never_judged_by_an_expectation()
    {
        var verdict = Decide(776, Wpages, [Process("mystery", hosts: Options.MinHostsPerProcess - 1)], Rule("776/udp", "rpc.statd"));

        Assert.Equal(VerdictOutcome.InsufficientEvidence, verdict.Kind);
        Assert.DoesNotContain("mystery", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Ghosts_and_squatters_cite_nmaps_open_frequency_when_a_table_gives_one()
    {
        var rare = Wpages with { OpenFrequency = 0.002043 };

        Assert.Contains("nmap-services open frequency 0.002043", Decide(776, rare, [Process("rpc.statd", hosts: 5)]).Reason, StringComparison.Ordinal);
        Assert.Contains("nmap-services open frequency 0.002043", Decide(776, rare, [], hostsOnPort: 0).Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("nmap", Decide(776, Wpages, [], hostsOnPort: 0).Reason, StringComparison.Ordinal);
    }

    /// <summary>
    /// For any port, registry and processes above the floor: with one rule naming each of them the verdict is expected;
    /// with a rule naming none of them it is unexpected and names only processes the rules do not cover.
    /// </summary>
    [Fact]
    public void Rules_naming_every_process_give_expected_and_rules_naming_none_give_unexpected() =>
        Gen.Select(Gen.Int[0, 65535], Gen.Bool, Gen.Int[Options.MinHostsPerProcess, 50].Array[1, 5]).Sample((port, assigned, hosts) =>
        {
            var registry = assigned ? Wpages : NotListed;
            var processes = hosts.Select((h, i) => Process($"daemon-{i}", hosts: h)).ToList();
            var all = processes.Select(p => Rule($"{port}/tcp", p.Process)).ToArray();

            var expected = Decide(port, registry, processes, all);
            var unexpected = Decide(port, registry, processes, Rule($"{port}/tcp", "something-else"));

            Assert.Equal(VerdictOutcome.Expected, expected.Kind);
            Assert.Equal(VerdictOutcome.Unexpected, unexpected.Kind);
            Assert.All(unexpected.ObservedProcesses, name => Assert.StartsWith("daemon-", name, StringComparison.Ordinal));
            Assert.Contains("something-else", unexpected.Reason, StringComparison.Ordinal);
        }, iter: 1_000);

    private static ExpectationRule Rule(string label, string process, string? group = null, string? note = null) => new(label, process, group, "ops", SetAt, note);

    private static VerdictResult Decide(int port, RegistrySide registry, IReadOnlyList<ObservedProcessSide> observed, params ExpectationRule[] rules) =>
        Decide(port, registry, observed, observed.Sum(p => p.Hosts), rules);

    private static VerdictResult Decide(int port, RegistrySide registry, IReadOnlyList<ObservedProcessSide> observed, long hostsOnPort,
        params ExpectationRule[] rules) =>
        VerdictRules.Decide(port, registry, observed, hostsOnPort, 1_000, Options, rules.Length == 0 ? null : new ExpectationSide(rules, true))
        ?? throw new InvalidOperationException("expected a verdict");

    private static ObservedProcessSide Process(string name, long hosts, string[]? groups = null) =>
        new(name, $"/usr/sbin/{name}", hosts, hosts * 2, ProcessServiceMap.Default.Match(name, null, _ => false), null, groups);
}
