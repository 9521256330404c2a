using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Testing;
using static PortHistory.Testing.FleetSimulator;

namespace PortHistory.Server.Tests;

/// <summary>
/// Differential reporting against a real server and PostgreSQL, as an agent speaks it over gRPC: what each report is
/// answered, what the host and the ports show after it, and hosts that fall silent, come back and are retired. Liveness
/// runs fast here (a one-second heartbeat, stale after two), so every case keeps its own hosts.
/// </summary>
[Collection(OwnServerCollection.Name)]
public sealed class HostReportingTests(PostgresFixture fixture, ClassResources resources) : IClassFixture<ClassResources>
{
    private Task<SightingsServer> ServerAsync() => resources.SharedAsync("hostreports", () => SightingsServer.StartAsync(fixture.Postgres, "hostreports",
        new Dictionary<string, string>
        {
            ["PortHistory__Hosts__HeartbeatPeriod"] = "00:00:01",
            ["PortHistory__Hosts__StaleAfterPeriods"] = "2",
            ["PortHistory__Hosts__SweepInterval"] = "00:00:00.200",
            ["PortHistory__Hosts__StoredSweepInterval"] = "00:00:00.500",
        }));

    [Fact]
    public async Task Each_report_is_applied_once_and_one_that_does_not_follow_is_answered_resync_or_refused()
    {
        var server = await ServerAsync();
        var agent = new Sightings.SightingsClient(server.Agent);
        var epoch = new ReportEpoch { Id = 0x5eed_0001, StartedAt = Timestamp.FromDateTime(DateTime.UtcNow.AddMinutes(-1)) };
        var sshd = Socket(40501, Transport.Tcp, "sshd");
        var ntpd = Socket(40502, Transport.Udp, "ntpd");
        var java = Socket(40503, Transport.Tcp, "java");
        const string host = "hr-protocol";

        Assert.Equal(HostReportOutcome.Applied, (await agent.ReportHostAsync(HostReports.Snapshot(host, epoch, 1, [sshd, ntpd]))).Outcome);
        var change = HostReports.Changes(host, epoch, 2, added: [java], removed: [ntpd], after: [sshd, java]);
        Assert.Equal(HostReportOutcome.Applied, (await agent.ReportHostAsync(change)).Outcome);
        // The same report again (a retry whose answer was lost): nothing changes twice.
        var again = await agent.ReportHostAsync(change);
        Assert.Equal((HostReportOutcome.Duplicate, 2ul), (again.Outcome, again.Seq));

        // What does not follow from what the server holds is not applied: the agent is asked for a snapshot.
        Assert.Equal(HostReportOutcome.Resync, (await agent.ReportHostAsync(HostReports.Changes(host, epoch, 4, added: [ntpd], removed: [], after: [sshd, java, ntpd]))).Outcome);
        Assert.Equal(HostReportOutcome.Resync, (await agent.ReportHostAsync(HostReports.Changes(host, epoch, 3, added: [], removed: [ntpd], after: [sshd, java]))).Outcome);
        Assert.Equal(HostReportOutcome.Resync, (await agent.ReportHostAsync(HostReports.Heartbeat(host, epoch, 2, [sshd]))).Outcome);
        Assert.Equal(HostReportOutcome.Applied, (await agent.ReportHostAsync(HostReports.Heartbeat(host, epoch, 2, [sshd, java]))).Outcome);
        Assert.Equal(HostReportOutcome.Resync, (await agent.ReportHostAsync(HostReports.Heartbeat("hr-never-seen", epoch, 5, [sshd]))).Outcome);

        // Refused outright: an epoch that begins in the future, and a snapshot beyond the bound.
        var future = HostReports.Snapshot("hr-future", new ReportEpoch { Id = 7, StartedAt = Timestamp.FromDateTime(DateTime.UtcNow.AddHours(1)) }, 1, [sshd]);
        Assert.Equal(StatusCode.InvalidArgument, (await Assert.ThrowsAsync<RpcException>(() => agent.ReportHostAsync(future).ResponseAsync)).StatusCode);
        var huge = Enumerable.Range(0, 10_001).Select(i => Socket((uint)(i % 65_536), i < 65_536 ? Transport.Tcp : Transport.Udp, $"p{i}")).ToList();
        var tooLarge = await Assert.ThrowsAsync<RpcException>(() => agent.ReportHostAsync(HostReports.Snapshot("hr-huge", epoch, 1, huge)).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, tooLarge.StatusCode);

        // The host holds what the agent holds, and the ports count it once.
        var held = (await new Hosts.HostsClient(server.Admin).GetHostAsync(new GetHostRequest { HostRef = host })).Host;
        Assert.Equal((2u, 2ul, epoch.Id, true), (held.Sockets, held.Seq, held.Epoch, held.Differential));
        Assert.Equal(SocketSetHash.Of([sshd, java]).ToByteString(), held.SetHash);
        Assert.Equal(1ul, await ListeningHostsAsync(server, 40503, Transport.Tcp, n => n == 1));
        Assert.Equal(0ul, await ListeningHostsAsync(server, 40502, Transport.Udp, n => n == 0));
    }

    [Fact]
    public async Task Hosts_that_fall_silent_go_stale_without_changing_the_verdict_come_back_and_once_retired_lose_their_sockets()
    {
        var server = await ServerAsync();
        var agent = new Sightings.SightingsClient(server.Agent);
        var epoch = new ReportEpoch { Id = 0x5eed_0002, StartedAt = Timestamp.FromDateTime(DateTime.UtcNow.AddMinutes(-1)) };
        // rpc.statd on 776/udp, which the registry gives to wpages: a squatter, on three hosts that then fall silent.
        var statd = Socket(776, Transport.Udp, "rpc.statd");
        var hosts = Enumerable.Range(1, 3).Select(i => $"hr-silent-{i}").ToList();
        foreach (var host in hosts) Assert.Equal(HostReportOutcome.Applied, (await agent.ReportHostAsync(HostReports.Snapshot(host, epoch, 1, [statd]))).Outcome);
        var observed = new ObservationsService.ObservationsClient(server.Admin);
        await SightingsServer.EventuallyAsync(() => observed.GetObservedAsync(new GetObservedRequest { Port = 776, Transport = Transport.Udp }).ResponseAsync,
            r => Statd(r) is { } p && p.OnlineHosts + p.StaleHosts == 3);
        var before = await VerdictAsync(server);

        // Silent for more than two heartbeat periods: stale, its sockets kept and counted as stale; the verdict stays.
        var stale = await SightingsServer.EventuallyAsync(() => observed.GetObservedAsync(new GetObservedRequest { Port = 776, Transport = Transport.Udp }).ResponseAsync,
            r => Statd(r) is { OnlineHosts: 0, StaleHosts: 3 });
        Assert.False(Statd(stale)!.Gone);
        Assert.Equal(before, await VerdictAsync(server));
        var listed = new Hosts.HostsClient(server.Admin);
        var states = (await listed.ListHostsAsync(new ListHostsRequest { State = HostLiveness.Stale })).Hosts.Select(h => h.HostRef).ToHashSet();
        Assert.True(hosts.All(states.Contains), string.Join(", ", states));

        // One comes back with a heartbeat: online again, nothing sent but heartbeats (its agent goes on sending them).
        Assert.Equal(HostReportOutcome.Applied, (await agent.ReportHostAsync(HostReports.Heartbeat(hosts[0], epoch, 1, [statd]))).Outcome);
        await using var alive = new KeepAlive(agent, epoch);
        alive.Add(hosts[0], 1, statd);
        await SightingsServer.EventuallyAsync(() => observed.GetObservedAsync(new GetObservedRequest { Port = 776, Transport = Transport.Udp }).ResponseAsync,
            r => Statd(r) is { OnlineHosts: 1, StaleHosts: 2 });

        // Retired by an admin: its sockets are removed ("host retired"), and the process is not gone for it.
        var retired = await listed.RetireHostAsync(new RetireHostRequest { HostRef = hosts[1], Reason = "decommissioned" });
        Assert.Equal((HostLiveness.Retired, 0u), (retired.Host.State, retired.Host.Sockets));
        Assert.StartsWith("decommissioned", retired.Host.RetiredReason, StringComparison.Ordinal);
        var after = await SightingsServer.EventuallyAsync(() => observed.GetObservedAsync(new GetObservedRequest { Port = 776, Transport = Transport.Udp }).ResponseAsync,
            r => Statd(r) is { OnlineHosts: 1, StaleHosts: 1 });
        Assert.False(Statd(after)!.Gone);

        // Its agent reports again: the server no longer holds its epoch, so it is asked for a snapshot, and is back.
        Assert.Equal(HostReportOutcome.Resync, (await agent.ReportHostAsync(HostReports.Heartbeat(hosts[1], epoch, 1, [statd]))).Outcome);
        Assert.Equal(HostReportOutcome.Applied, (await agent.ReportHostAsync(HostReports.Snapshot(hosts[1], epoch, 2, [statd]))).Outcome);
        alive.Add(hosts[1], 2, statd);
        await SightingsServer.EventuallyAsync(() => observed.GetObservedAsync(new GetObservedRequest { Port = 776, Transport = Transport.Udp }).ResponseAsync,
            r => Statd(r) is { OnlineHosts: 2 });
    }

    [Fact]
    public async Task A_host_whose_heartbeats_keep_coming_stays_online_past_two_stale_periods_and_its_last_seen_time_moves()
    {
        // A server of its own with a stale period (6 s) far beyond any pause of a loaded machine between two heartbeats
        // (250 ms apart): a host that turns stale here was heard and not counted.
        await using var server = await SightingsServer.StartAsync(fixture.Postgres, "hostheartbeats", new Dictionary<string, string>
        {
            ["PortHistory__Hosts__HeartbeatPeriod"] = "00:00:02",
            ["PortHistory__Hosts__StaleAfterPeriods"] = "3",
            ["PortHistory__Hosts__SweepInterval"] = "00:00:00.200",
        });
        var agent = new Sightings.SightingsClient(server.Agent);
        var epoch = new ReportEpoch { Id = 0x5eed_0004, StartedAt = Timestamp.FromDateTime(DateTime.UtcNow.AddMinutes(-1)) };
        var daemon = Socket(40510, Transport.Tcp, "heartbeating");
        const string host = "hr-heartbeats";
        Assert.Equal(HostReportOutcome.Applied, (await agent.ReportHostAsync(HostReports.Snapshot(host, epoch, 1, [daemon]))).Outcome);
        var hosts = new Hosts.HostsClient(server.Admin);
        var first = (await hosts.GetHostAsync(new GetHostRequest { HostRef = host })).Host;

        // Heartbeats every 250 ms, all but the first answered without the host's grain; watched until its last-seen time
        // is two stale periods past the snapshot.
        await using var alive = new KeepAlive(agent, epoch);
        alive.Add(host, 1, daemon);
        var until = first.LastSeen.ToDateTime().AddSeconds(12);
        var last = await SightingsServer.EventuallyAsync(() => hosts.GetHostAsync(new GetHostRequest { HostRef = host }).ResponseAsync,
            r => r.Host.LastSeen.ToDateTime() > until);

        // Online all along: never stale and back, which would move the time of its state.
        Assert.Equal((HostLiveness.Online, first.StateSince), (last.Host.State, last.Host.StateSince));
    }

    [Fact]
    public async Task A_full_report_agent_and_a_differential_one_count_on_the_same_port_and_a_removal_by_either_is_seen()
    {
        var server = await ServerAsync();
        var agent = new Sightings.SightingsClient(server.Agent);
        var epoch = new ReportEpoch { Id = 0x5eed_0003, StartedAt = Timestamp.FromDateTime(DateTime.UtcNow.AddMinutes(-1)) };
        const uint port = 40600;
        var scan = DateTime.UtcNow.AddSeconds(-3);
        Assert.Equal(1u, (await agent.ReportBatchAsync(Batch([Sighting("hr-legacy", port, Transport.Tcp, "nginx", observedAt: scan)]))).Accepted);
        var nginx = Socket(port, Transport.Tcp, "nginx", "/usr/sbin/nginx");
        Assert.Equal(HostReportOutcome.Applied, (await agent.ReportHostAsync(HostReports.Snapshot("hr-differential", epoch, 1, [nginx]))).Outcome);
        Assert.Equal(2ul, await ListeningHostsAsync(server, port, Transport.Tcp, n => n == 2));

        // The differential host stops it; the full-report host's next two scans no longer list it (a scan is known
        // complete when the next one starts).
        Assert.Equal(HostReportOutcome.Applied, (await agent.ReportHostAsync(HostReports.Changes("hr-differential", epoch, 2, added: [], removed: [nginx], after: []))).Outcome);
        Assert.Equal(1ul, await ListeningHostsAsync(server, port, Transport.Tcp, n => n == 1));
        foreach (var next in new[] { scan.AddSeconds(1), scan.AddSeconds(2) })
        {
            await agent.ReportBatchAsync(Batch([Sighting("hr-legacy", port + 1, Transport.Tcp, "other", observedAt: next)]));
        }

        Assert.Equal(0ul, await ListeningHostsAsync(server, port, Transport.Tcp, n => n == 0));
    }

    private static ObservedProcess? Statd(GetObservedResponse response) =>
        response.Observed.Transports.SingleOrDefault()?.Processes.SingleOrDefault(p => p.ProcessName == "rpc.statd");

    private static async Task<VerdictKind> VerdictAsync(SightingsServer server) =>
        Assert.Single((await new PortRegistry.PortRegistryClient(server.Admin).GetPortAsync(new GetPortRequest { Port = 776, Transport = Transport.Udp })).Verdicts).Kind;

    /// <summary>Hosts listening there, online or stale (a host these cases leave silent turns stale within seconds).</summary>
    private static Task<ulong> ListeningHostsAsync(SightingsServer server, uint port, Transport transport, Func<ulong, bool> done) =>
        SightingsServer.EventuallyAsync(async () =>
        {
            var answer = await new ObservationsService.ObservationsClient(server.Admin).GetObservedAsync(new GetObservedRequest { Port = port, Transport = transport });
            return answer.Observed.Transports.SingleOrDefault() is { } t ? t.OnlineHosts + t.StaleHosts : 0;
        }, done);

    /// <summary>Heartbeats for the hosts named, as their agents would send them, until disposed.</summary>
    private sealed class KeepAlive(Sightings.SightingsClient agent, ReportEpoch epoch) : IAsyncDisposable
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (ulong Seq, HostSocket[] Held)> _hosts = new();
        private readonly CancellationTokenSource _stop = new();
        private Task? _loop;

        public void Add(string host, ulong seq, params HostSocket[] held)
        {
            _hosts[host] = (seq, held);
            _loop ??= Task.Run(async () =>
            {
                using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
                try
                {
                    while (await timer.WaitForNextTickAsync(_stop.Token))
                    {
                        foreach (var (name, (hostSeq, sockets)) in _hosts)
                        {
                            await agent.ReportHostAsync(HostReports.Heartbeat(name, epoch, hostSeq, sockets), cancellationToken: _stop.Token);
                        }
                    }
                }
                catch (Exception e) when (e is OperationCanceledException || e is RpcException { StatusCode: StatusCode.Cancelled })
                {
                    // Disposed.
                }
            });
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            if (_loop is not null) await _loop;
            _stop.Dispose();
        }
    }

    private static HostSocket Socket(uint port, Transport transport, string process, string? executable = null) => new()
    {
        Port = port, Transport = transport, BindScope = BindScope.Wildcard, ProcessName = process, Executable = executable ?? $"/usr/sbin/{process}",
    };
}
