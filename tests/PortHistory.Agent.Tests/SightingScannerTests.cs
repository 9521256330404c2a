using System.Net;
using System.Net.Sockets;
using PortHistory.Agent.Scanning;
using PortHistory.Contracts.V1;
using V1AddressFamily = PortHistory.Contracts.V1.AddressFamily;

namespace PortHistory.Agent.Tests;

public sealed class SightingScannerTests
{
    private const string Header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
    private const string ContainerId = "3f6d2c1b0a9e8d7c6b5a49382716051f3e2d1c0b0a99887766554433221100ff";
    private static readonly DateTimeOffset ScanTime = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static string Row(string local, string state, uint uid, ulong inode) =>
        $"   0: {local} 00000000:0000 {state} 00000000:00000000 00:00000000 00000000 {uid,5}        0 {inode} 1 0000000000000000 100 0 0 10 0\n";

    [Fact]
    public void A_socket_is_reported_with_the_process_that_holds_it()
    {
        using var proc = new FakeProc()
            .WithPasswd("root:x:0:0:root:/root:/bin/bash\nsshd:x:105:65534::/run/sshd:/usr/sbin/nologin\npostgres:x:112:120::/var/lib/postgresql:/bin/false\n")
            .WithSelf(effectiveUid: 1000, networkNamespace: "net:[4026531840]")
            .WithTable("tcp", Header + Row("00000000:0016", "0A", 0, 12345) + Row("0100007F:1538", "0A", 112, 999))
            .WithTable("udp", Header + Row("00000000:0308", "07", 0, 777))
            .WithProcess(4242, "sshd", uid: 0, [12345, 777], executable: "/usr/sbin/sshd", networkNamespace: "net:[4026531840]",
                cgroup: $"0::/system.slice/docker-{ContainerId}.scope\n")
            // Holds the same socket, as with socket activation: the service, not init, is the owner.
            .WithProcess(1, "systemd", uid: 0, [12345])
            .WithHiddenProcess(5000);

        var scan = new SightingScanner(proc.Root, proc.Passwd).Scan("host-a", ScanTime);

        var ssh = Assert.Single(scan.Sightings, s => s.Transport == Transport.Tcp && s.Port == 22);
        Assert.Equal("sshd", ssh.ProcessName);
        Assert.Equal(4242u, ssh.Pid);
        Assert.Equal("root", ssh.User);
        Assert.Equal("/usr/sbin/sshd", ssh.Executable);
        Assert.Equal("0.0.0.0", ssh.LocalAddress);
        Assert.Equal(V1AddressFamily.Ipv4, ssh.AddressFamily);
        Assert.Equal(BindScope.Wildcard, ssh.BindScope);
        Assert.Equal(SocketState.Listen, ssh.State);
        Assert.Equal("host-a", ssh.HostRef);
        Assert.Equal(ScanTime, ssh.ObservedAt.ToDateTimeOffset());
        Assert.Equal("net:[4026531840]", ssh.NetworkNamespace);
        Assert.Equal(ContainerId, ssh.ContainerId);
        Assert.False(ssh.AgentPrivileged);

        var rpc = Assert.Single(scan.Sightings, s => s.Transport == Transport.Udp);
        Assert.Equal((776u, SocketState.Bound, 4242u), (rpc.Port, rpc.State, rpc.Pid));

        // Nobody visible holds PostgreSQL's socket: counted, not reported (a sighting names a process).
        Assert.DoesNotContain(scan.Sightings, s => s.Port == 5432);

        Assert.Equal(2, scan.Sightings.Count);
        Assert.Equal(1, scan.Unowned);
        Assert.Equal(1, scan.HiddenProcesses);
        Assert.False(scan.Privileged);
    }

    [Fact]
    public void Sockets_of_another_network_namespace_are_read_through_a_process_in_it()
    {
        using var proc = new FakeProc()
            .WithPasswd("root:x:0:0:root:/root:/bin/bash\n")
            .WithSelf(effectiveUid: 0, networkNamespace: "net:[4026531840]")
            .WithTable("tcp", Header + Row("00000000:0016", "0A", 0, 100))
            .WithProcess(10, "sshd", 0, [100], networkNamespace: "net:[4026531840]")
            .WithProcess(20, "nginx", 101, [200], networkNamespace: "net:[4026532999]")
            .WithTable("tcp", Header + Row("00000000:0050", "0A", 101, 200), pid: 20);

        var scan = new SightingScanner(proc.Root, proc.Passwd).Scan("host-a", ScanTime);

        var web = Assert.Single(scan.Sightings, s => s.Port == 80);
        Assert.Equal(("nginx", 20u, "101", "net:[4026532999]"), (web.ProcessName, web.Pid, web.User, web.NetworkNamespace));
        Assert.True(web.AgentPrivileged);
        Assert.Equal(2, scan.Sightings.Count);
    }

    [Fact]
    public void A_runtime_s_sighting_carries_its_program_and_systemd_unit_by_name_only()
    {
        using var proc = new FakeProc()
            .WithSelf(effectiveUid: 0)
            .WithTable("tcp", Header + Row("00000000:0885", "0A", 0, 1) + Row("00000000:2384", "0A", 0, 2))
            .WithProcess(40, "java", 0, [1], executable: "/usr/lib/jvm/java-17/bin/java", cgroup: "0::/system.slice/zookeeper.service\n",
                cmdline: ["java", "-Dzookeeper.admin.password=hunter2", "-cp", "/opt/zookeeper/lib/*", "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                    "/etc/zookeeper/zoo.cfg"])
            .WithProcess(41, "python3", 0, [2], executable: "/usr/bin/python3.11", cgroup: $"0::/system.slice/docker-{ContainerId}.scope\n",
                cmdline: ["python3", "/srv/app/serve.py", "--token", "s3cr3t"]);

        var scan = new SightingScanner(proc.Root, proc.Passwd).Scan("host-a", ScanTime);

        var zookeeper = Assert.Single(scan.Sightings, s => s.Port == 2181);
        Assert.Equal(("java", "org.apache.zookeeper.server.quorum.QuorumPeerMain", "zookeeper.service", ""),
            (zookeeper.ProcessName, zookeeper.Program, zookeeper.SystemdUnit, zookeeper.ContainerId));
        var app = Assert.Single(scan.Sightings, s => s.Port == 9092);
        Assert.Equal(("serve.py", "", ContainerId), (app.Program, app.SystemdUnit, app.ContainerId));
        // Nothing of the arguments leaves the host.
        Assert.DoesNotContain(scan.Sightings, s => s.ToString().Contains("hunter2", StringComparison.Ordinal) || s.ToString().Contains("s3cr3t", StringComparison.Ordinal));
    }

    [Fact]
    public void Several_sockets_of_one_process_on_one_port_make_one_sighting()
    {
        // SO_REUSEPORT: the server would reject the second as a duplicate within the batch.
        using var proc = new FakeProc()
            .WithSelf(effectiveUid: 0)
            .WithTable("udp", Header + Row("00000000:0035", "07", 0, 1) + Row("00000000:0035", "07", 0, 2))
            .WithProcess(30, "unbound", 0, [1, 2]);

        var scan = new SightingScanner(proc.Root, proc.Passwd).Scan("host-a", ScanTime);

        Assert.Equal("unbound", Assert.Single(scan.Sightings).ProcessName);
    }

    [Fact]
    public void A_real_tcp_listener_of_this_process_is_found_in_proc()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = (uint)((IPEndPoint)listener.LocalEndpoint).Port;

            var scan = new SightingScanner().Scan("test-host", DateTimeOffset.UtcNow);

            var mine = Assert.Single(scan.Sightings, s => s.Transport == Transport.Tcp && s.Port == port && s.LocalAddress == "127.0.0.1");
            Assert.Equal(SocketState.Listen, mine.State);
            Assert.Equal((uint)Environment.ProcessId, mine.Pid);
            Assert.NotEmpty(mine.ProcessName);
            Assert.NotEmpty(mine.User);
            Assert.Equal(BindScope.Loopback, mine.BindScope);
            Assert.StartsWith("net:[", mine.NetworkNamespace, StringComparison.Ordinal);
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public void A_real_udp_socket_of_this_process_is_found_bound_in_proc()
    {
        // IPv4: containers often run without IPv6, even on loopback.
        using var socket = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = (uint)((IPEndPoint)socket.Client.LocalEndPoint!).Port;

        var scan = new SightingScanner().Scan("test-host", DateTimeOffset.UtcNow);

        var mine = Assert.Single(scan.Sightings, s => s.Transport == Transport.Udp && s.Port == port && s.LocalAddress == "127.0.0.1");
        Assert.Equal(SocketState.Bound, mine.State);
        Assert.Equal(V1AddressFamily.Ipv4, mine.AddressFamily);
        Assert.Equal((uint)Environment.ProcessId, mine.Pid);
    }

    [Theory]
    [InlineData("0.0.0.0", BindScope.Wildcard)]
    [InlineData("::", BindScope.Wildcard)]
    [InlineData("127.0.0.1", BindScope.Loopback)]
    [InlineData("127.0.0.53", BindScope.Loopback)]
    [InlineData("::1", BindScope.Loopback)]
    [InlineData("::ffff:127.0.0.1", BindScope.Loopback)]
    [InlineData("10.0.2.15", BindScope.Specific)]
    [InlineData("fe80::1", BindScope.Specific)]
    public void Bind_scope_follows_the_address(string address, BindScope expected) =>
        Assert.Equal(expected, SightingScanner.BindScopeOf(IPAddress.Parse(address)));
}
