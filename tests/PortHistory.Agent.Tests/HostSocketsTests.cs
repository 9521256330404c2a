using CsCheck;
using PortHistory.Agent.Reporting;
using PortHistory.Contracts.V1;

namespace PortHistory.Agent.Tests;

/// <summary>What counts as a change between two scans: a socket's identity, and the diff of two sets.</summary>
public sealed class HostSocketsTests
{
    private static Sighting Sighting(uint port, string process = "sshd", string address = "0.0.0.0", uint pid = 42, string user = "root",
        Transport transport = Transport.Tcp) => new()
    {
        HostRef = "h", Transport = transport, LocalAddress = address, Port = port, ProcessName = process, Executable = $"/usr/sbin/{process}",
        Pid = pid, User = user, Program = "", SystemdUnit = $"{process}.service",
        BindScope = SightingScannerBindScope(address),
    };

    private static BindScope SightingScannerBindScope(string address) => Scanning.SightingScanner.BindScopeOf(System.Net.IPAddress.Parse(address));

    private static SocketSetChange Change(IEnumerable<Sighting> before, IEnumerable<Sighting> after) =>
        HostSockets.Diff(HostSockets.Of(before), HostSockets.Of(after));

    [Fact]
    public void A_daemon_restarted_with_a_new_pid_and_user_is_no_change()
    {
        var before = new[] { Sighting(22, pid: 100), Sighting(53, "named", pid: 200, transport: Transport.Udp) };
        var after = new[] { Sighting(22, pid: 4242, user: "sshd"), Sighting(53, "named", pid: 4300, transport: Transport.Udp) };

        Assert.True(Change(before, after).IsEmpty);
    }

    [Fact]
    public void A_moved_bind_address_is_a_change()
    {
        var change = Change([Sighting(5432, "postgres", "10.0.0.1")], [Sighting(5432, "postgres", "10.0.0.2")]);

        Assert.Equal("10.0.0.2", Assert.Single(change.Added).BoundAddress);
        Assert.Equal("10.0.0.1", Assert.Single(change.Removed).BoundAddress);
    }

    [Theory]
    [InlineData("0.0.0.0", "::", BindScope.Wildcard)]
    [InlineData("127.0.0.1", "::1", BindScope.Loopback)]
    [InlineData("10.1.2.3", "::ffff:10.1.2.3", BindScope.Specific)]
    public void The_same_daemon_on_both_families_is_one_socket(string ipv4, string ipv6, BindScope scope)
    {
        var socket = Assert.Single(HostSockets.Of([Sighting(22, address: ipv4), Sighting(22, address: ipv6, pid: 43)]));

        Assert.Equal(scope, socket.BindScope);
        Assert.Equal(scope == BindScope.Specific ? ipv4 : "", socket.BoundAddress);
        Assert.True(Change([Sighting(22, address: ipv4)], [Sighting(22, address: ipv6)]).IsEmpty);
    }

    [Fact]
    public void Another_process_on_the_same_port_is_a_change()
    {
        var change = Change([Sighting(8080, "java")], [Sighting(8080, "node")]);

        Assert.Equal(("node", "java"), (Assert.Single(change.Added).ProcessName, Assert.Single(change.Removed).ProcessName));
    }

    private static readonly Gen<HostSocket> Sockets = Gen.Select(Gen.UInt[1, 12], Gen.Int[0, 2], Gen.Int[0, 2], Gen.Int[0, 2]).Select((port, scope, address, process) =>
        new HostSocket
        {
            Transport = Transport.Tcp, Port = port, BindScope = (BindScope)(scope + 1), BoundAddress = scope == 2 ? $"10.0.0.{address}" : "",
            ProcessName = $"p{process}",
        });

    [Fact]
    public void Applying_the_diff_of_two_sets_gives_the_second_and_its_digest_follows_the_change() =>
        Gen.Select(Sockets.HashSet[0, 20], Sockets.HashSet[0, 20]).Sample((before, after) =>
        {
            var change = HostSockets.Diff(before, after);

            Assert.True(HostSockets.Apply(before, new HostChanges { Added = { change.Added }, Removed = { change.Removed } }).SetEquals(after));
            var digest = change.Added.Concat(change.Removed).Aggregate(SocketSetHash.Of(before), (hash, socket) => hash ^ SocketSetHash.Member(socket));
            Assert.Equal(SocketSetHash.Of(after), digest);
            Assert.Equal(change.IsEmpty, before.SetEquals(after));
        });
}
