using CsCheck;
using PortHistory.Observations;

namespace PortHistory.Observations.Tests;

/// <summary>
/// Registry versus reality for one (port, transport): each verdict kind from small hand-built inputs, and the
/// privacy floor (a process on too few hosts is never named, too few reporting hosts never make a ghost).
/// </summary>
public sealed class VerdictRulesTests
{
    private static readonly VerdictOptions Options = new();
    private static readonly RegistrySide Wpages = new("wpages", ["wpages"], "rfc1340", "assigned");
    private static readonly RegistrySide Sunrpc = new("sunrpc", ["sunrpc", "portmapper"], "rfc1340", "assigned");
    private static readonly RegistrySide NotListed = new(null, [], null, "not listed");

    [Fact]
    public void Rpc_statd_on_776_is_a_squatter_against_wpages()
    {
        var verdict = Decide(776, Wpages, [Process("rpc.statd", hosts: 5)]);

        Assert.Equal(VerdictOutcome.Squatter, verdict.Kind);
        Assert.Equal("wpages", verdict.AssignedService);
        Assert.Equal(["rpc.statd"], verdict.ObservedProcesses);
        AssertMentions(verdict.Reason, "wpages", "since rfc1340", "rpc.statd on 5 host(s)", "bindresvport");
    }

    [Fact]
    public void A_reason_says_since_when_the_assignment_holds_the_conventional_use_before_it_and_the_record_s_last_change()
    {
        var wpages = Wpages with { Since = "rfc1340, 1992-07", ConventionalSince = "rfc1060, 1990-03", LastChange = "2004-01-08: contact added" };

        var squatter = Decide(776, wpages, [Process("rpc.statd", hosts: 5)]);
        var ghost = Decide(776, wpages, [], hostsOnPort: 0, reportingHosts: Options.MinReportingHosts);

        Assert.StartsWith("assigned to wpages (since rfc1340, 1992-07; conventional use since rfc1060, 1990-03; record last changed 2004-01-08: contact added), but observed rpc.statd on 5 host(s)",
            squatter.Reason, StringComparison.Ordinal);
        Assert.StartsWith(VerdictRules.Assignment(wpages) + ", but none of the", ghost.Reason, StringComparison.Ordinal);
        Assert.StartsWith("assigned to wpages (since rfc1340, 1992-07), but observed", Decide(776, wpages with { ConventionalSince = null, LastChange = null },
            [Process("rpc.statd", hosts: 5)]).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_process_the_table_says_provides_the_assigned_service_is_a_match()
    {
        var verdict = Decide(111, Sunrpc, [Process("rpcbind", hosts: 4)]);

        Assert.Equal(VerdictOutcome.Match, verdict.Kind);
        Assert.Equal(["rpcbind"], verdict.ObservedProcesses);
        AssertMentions(verdict.Reason, "sunrpc", "rpcbind on 4 host(s)", "provides sunrpc");
    }

    [Fact]
    public void A_process_named_like_the_assigned_service_is_a_match_without_a_table_entry()
    {
        var verdict = Decide(776, Wpages, [Process("wpages", hosts: 3, knownServices: "wpages")]);

        Assert.Equal(VerdictOutcome.Match, verdict.Kind);
    }

    [Fact]
    public void Only_the_process_on_the_most_hosts_decides_between_match_and_squatter()
    {
        // rpcbind provides sunrpc, but rpc.statd runs on more hosts.
        var squatted = Decide(111, Sunrpc, [Process("rpcbind", hosts: 3), Process("rpc.statd", hosts: 9)]);
        var matched = Decide(111, Sunrpc, [Process("rpcbind", hosts: 9), Process("rpc.statd", hosts: 3)]);

        Assert.Equal(VerdictOutcome.Squatter, squatted.Kind);
        Assert.Equal(["rpc.statd", "rpcbind"], squatted.ObservedProcesses);
        Assert.Equal(VerdictOutcome.Match, matched.Kind);
        Assert.Equal(["rpcbind", "rpc.statd"], matched.ObservedProcesses);
    }

    [Fact]
    public void A_process_on_a_port_assigned_to_nothing_is_unregistered()
    {
        var verdict = Decide(4711, NotListed with { StatusText = "unassigned" }, [Process("myapp", hosts: 6)]);

        Assert.Equal(VerdictOutcome.Unregistered, verdict.Kind);
        Assert.Null(verdict.AssignedService);
        Assert.Equal(["myapp"], verdict.ObservedProcesses);
        AssertMentions(verdict.Reason, "unassigned", "myapp on 6 host(s)");
    }

    [Fact]
    public void An_assigned_port_nobody_runs_anything_on_is_a_ghost_once_enough_hosts_report()
    {
        var ghost = Decide(776, Wpages, [], hostsOnPort: 0, reportingHosts: Options.MinReportingHosts);
        var tooFew = Decide(776, Wpages, [], hostsOnPort: 0, reportingHosts: Options.MinReportingHosts - 1);

        Assert.Equal(VerdictOutcome.Ghost, ghost.Kind);
        Assert.Empty(ghost.ObservedProcesses);
        AssertMentions(ghost.Reason, "wpages", $"{Options.MinReportingHosts} reporting hosts");
        Assert.Equal(VerdictOutcome.InsufficientEvidence, tooFew.Kind);
        AssertMentions(tooFew.Reason, $"only {Options.MinReportingHosts - 1} host(s)");
    }

    [Fact]
    public void A_port_neither_assigned_nor_observed_has_no_verdict()
    {
        Assert.Null(VerdictRules.Decide(4711, NotListed, [], 0, 1_000, Options));
        Assert.Null(VerdictRules.Decide(VerdictOptions.FirstDynamicPort, NotListed, [], 0, 1_000, Options));
    }

    [Fact]
    public void A_dynamic_port_in_use_is_dynamic_whatever_runs_there_and_the_port_below_is_not()
    {
        var dynamic = Decide(VerdictOptions.FirstDynamicPort, NotListed, [Process("myapp", hosts: 6)]);
        var unseen = Decide(65535, NotListed, [Process("myapp", hosts: 1)], hostsOnPort: 1);
        var below = Decide(VerdictOptions.FirstDynamicPort - 1, NotListed, [Process("myapp", hosts: 6)]);

        Assert.Equal(VerdictOutcome.Dynamic, dynamic.Kind);
        Assert.Equal(["myapp"], dynamic.ObservedProcesses);
        Assert.Equal(VerdictOutcome.Dynamic, unseen.Kind);
        // Seen on one host only: the host count is told, the process is not.
        Assert.Empty(unseen.ObservedProcesses);
        Assert.DoesNotContain("myapp", unseen.Reason, StringComparison.Ordinal);
        Assert.Equal(VerdictOutcome.Unregistered, below.Kind);
    }

    [Fact]
    public void A_process_on_fewer_hosts_than_the_floor_is_neither_named_nor_judged()
    {
        var floor = Options.MinHostsPerProcess;
        var hidden = Decide(776, Wpages, [Process("rpc.statd", hosts: floor - 1)], hostsOnPort: floor - 1);
        var shown = Decide(776, Wpages, [Process("rpc.statd", hosts: floor)], hostsOnPort: floor);

        Assert.Equal(VerdictOutcome.InsufficientEvidence, hidden.Kind);
        Assert.Empty(hidden.ObservedProcesses);
        Assert.DoesNotContain("rpc.statd", hidden.Reason, StringComparison.Ordinal);
        Assert.Equal(VerdictOutcome.Squatter, shown.Kind);
    }

    [Fact]
    public void A_reason_names_a_few_processes_and_counts_the_rest()
    {
        var processes = Enumerable.Range(1, VerdictRules.NamedProcesses + 2).Select(i => Process($"app{i}", hosts: 10 + i)).ToList();

        var verdict = Decide(4711, NotListed, processes);

        // The most widespread first.
        Assert.Equal(["app5", "app4", "app3"], verdict.ObservedProcesses);
        AssertMentions(verdict.Reason, "and 2 more process(es)");
        Assert.DoesNotContain("app1 ", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_verdict_never_names_a_process_seen_on_fewer_hosts_than_the_floor() =>
        Cases.Sample(c =>
        {
            var verdict = VerdictRules.Decide(c.Port, c.Registry, c.Observed, c.HostsOnPort, c.ReportingHosts, c.Options);
            if (verdict is null) return;
            foreach (var process in c.Observed.Where(p => p.Hosts < c.Options.MinHostsPerProcess))
            {
                Assert.DoesNotContain(process.Process, verdict.ObservedProcesses);
                Assert.DoesNotContain(process.Process, verdict.Reason, StringComparison.Ordinal);
            }

            Assert.All(verdict.ObservedProcesses, name => Assert.Contains(c.Observed, p => p.Process == name && p.Hosts >= c.Options.MinHostsPerProcess));
        }, iter: 2_000);

    [Fact]
    public void There_is_no_ghost_below_the_reporting_floor_nor_on_a_port_anyone_uses() =>
        Cases.Sample(c =>
        {
            var verdict = VerdictRules.Decide(c.Port, c.Registry, c.Observed, c.HostsOnPort, c.ReportingHosts, c.Options);
            if (verdict?.Kind != VerdictOutcome.Ghost) return;
            Assert.True(c.ReportingHosts >= c.Options.MinReportingHosts, $"ghost with {c.ReportingHosts} reporting hosts");
            Assert.Equal(0L, c.HostsOnPort);
            Assert.NotNull(c.Registry.AssignedService);
        }, iter: 2_000);

    /// <summary>Random ports (some dynamic), registry sides, processes with distinct names, thresholds and host counts.</summary>
    private static readonly Gen<Case> Cases =
        Gen.Select(
            Gen.OneOf(Gen.Int[0, 1023], Gen.Int[VerdictOptions.FirstDynamicPort - 2, 65535]),
            Gen.Bool,
            Gen.Int[0, 6].Array[0, 6],
            Gen.Int[0, 3],
            Gen.Int[0, 30],
            Gen.Int[1, 6],
            Gen.Int[1, 20],
            (port, assigned, hosts, extraHosts, reporting, minHosts, minReporting) =>
            {
                var observed = hosts.Select((h, i) => Process($"proc-{(char)('a' + i)}-x", hosts: h)).ToList();
                var onPort = hosts.Length == 0 ? 0 : hosts.Max() + extraHosts;
                var options = new VerdictOptions { MinHostsPerProcess = minHosts, MinReportingHosts = minReporting };
                return new Case(port, assigned ? Wpages : NotListed, observed, onPort, reporting, options);
            });

    private sealed record Case(int Port, RegistrySide Registry, List<ObservedProcessSide> Observed, long HostsOnPort, long ReportingHosts, VerdictOptions Options);

    private static VerdictResult Decide(int port, RegistrySide registry, IReadOnlyList<ObservedProcessSide> observed, long? hostsOnPort = null,
        long reportingHosts = 1_000) =>
        VerdictRules.Decide(port, registry, observed, hostsOnPort ?? observed.Sum(p => p.Hosts), reportingHosts, Options)
        ?? throw new InvalidOperationException("expected a verdict");

    private static ObservedProcessSide Process(string name, long hosts, string? knownServices = null) =>
        new(name, $"/usr/sbin/{name}", hosts, hosts * 2, ProcessServiceMap.Default.Match(name, null, n => n == knownServices));

    private static void AssertMentions(string text, params string[] parts)
    {
        foreach (var part in parts) Assert.Contains(part, text, StringComparison.Ordinal);
    }
}
