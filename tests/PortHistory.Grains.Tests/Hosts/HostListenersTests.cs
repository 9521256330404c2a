using CsCheck;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Hosts;
using static PortHistory.Grains.Tests.Hosts.HostCatalog;

namespace PortHistory.Grains.Tests.Hosts;

/// <summary>
/// A host's sockets as listener changes for port grains: per (port, transport) the host's presence (process id 0),
/// which changes only when the host starts or stops listening there at all, and each process listening there,
/// reachable when any of its sockets binds more than loopback.
/// </summary>
public sealed class HostListenersTests
{
    private static readonly HostSocket Ssh = Sockets[0], Nginx = Sockets[1], NginxLocal = Sockets[2], Apache = Sockets[3];

    [Fact]
    public void A_second_process_on_a_port_is_one_process_added_and_no_change_of_presence()
    {
        var changes = Diff([Nginx], [Nginx, Apache]);

        var added = Assert.Single(changes);
        Assert.Equal((80, Transport.Tcp, Entry(Apache, At).ProcessId, ListenerChangeKind.Added, true, 1),
            (added.Port, added.Transport, added.ProcessId, added.Kind, added.Reachable, added.Hosts));
    }

    [Fact]
    public void The_last_process_gone_from_a_port_removes_the_host_presence_there_too()
    {
        var changes = Diff([Ssh, Nginx], [Ssh]);

        Assert.Equal(
            new[] { (80, ListenerDelta.HostPresence, ListenerChangeKind.Removed), (80, Entry(Nginx, At).ProcessId, ListenerChangeKind.Removed) },
            changes.Select(c => (c.Port, c.ProcessId, c.Kind)).Order());
    }

    [Fact]
    public void A_process_that_now_binds_only_loopback_is_counted_again_as_unreachable()
    {
        var changes = Diff([Nginx], [NginxLocal]);

        var nginx = Entry(Nginx, At).ProcessId;
        Assert.Equal(
            new[]
            {
                (ListenerDelta.HostPresence, ListenerChangeKind.Added, false), (ListenerDelta.HostPresence, ListenerChangeKind.Removed, true),
                (nginx, ListenerChangeKind.Added, false), (nginx, ListenerChangeKind.Removed, true),
            },
            changes.Select(c => (c.ProcessId, c.Kind, c.Reachable)).Order());
    }

    [Fact]
    public void A_second_socket_of_a_listening_process_changes_nothing_a_port_counts()
    {
        Assert.Empty(Diff([Nginx], [Nginx, NginxLocal]));
        Assert.Empty(Diff([Nginx, NginxLocal], [Nginx]));
    }

    [Fact]
    public void A_daemon_restarted_on_the_same_socket_is_no_change_and_keeps_its_time()
    {
        var before = Entries([Ssh, Nginx], At);
        var restarted = Entries([Ssh, Nginx], At.AddHours(2));

        var (added, removed) = HostSocketSet.Diff(before, restarted);
        var changes = new List<ListenerDelta>();
        HostListeners.Diff(before, restarted, changes);

        Assert.Empty(added);
        Assert.Empty(removed);
        Assert.Empty(changes);
        Assert.All(HostSocketSet.KeepSince(before, restarted), socket => Assert.Equal(At, socket.Since));
    }

    [Theory]
    [InlineData(ListenerChangeKind.WentStale)]
    [InlineData(ListenerChangeKind.CameBack)]
    [InlineData(ListenerChangeKind.Removed)]
    [InlineData(ListenerChangeKind.RemovedWhileStale)]
    public void A_change_of_the_whole_host_names_every_listener_once_with_its_reach(ListenerChangeKind kind)
    {
        var sockets = Entries(Sockets, At);
        var changes = new List<ListenerDelta>();

        HostListeners.All(sockets, kind, changes);

        Assert.All(changes, c => Assert.Equal((kind, 1), (c.Kind, c.Hosts)));
        Assert.Equal(Listeners(sockets).Order(), changes.Select(c => (c.Port, c.Transport, c.ProcessId, c.Reachable)).Order());
    }

    [Fact]
    public void Any_change_of_set_is_the_listeners_gone_removed_and_the_new_ones_added()
    {
        Gen.Select(Gen.Int[0, AllMask], Gen.Int[0, AllMask]).Sample((before, after) =>
        {
            var (old, now) = (Entries(Set(before), At), Entries(Set(after), At));
            var changes = new List<ListenerDelta>();
            HostListeners.Diff(old, now, changes);

            var (was, @is) = (Listeners(old).ToHashSet(), Listeners(now).ToHashSet());
            var expected = @is.Except(was).Select(l => (l, ListenerChangeKind.Added)).Concat(was.Except(@is).Select(l => (l, ListenerChangeKind.Removed)));
            Assert.Equal(expected.Order(), changes.Select(c => ((c.Port, c.Transport, c.ProcessId, c.Reachable), c.Kind)).Order());
            Assert.All(changes, c => Assert.Equal(1, c.Hosts));

            // The host is present on a (port, transport) exactly while something of it listens there.
            var presence = changes.Where(c => c.ProcessId == ListenerDelta.HostPresence && c.Kind == ListenerChangeKind.Added).Select(c => (c.Port, c.Transport));
            Assert.All(presence, at => Assert.Contains(now, s => (s.Port, s.Transport) == at));
        }, iter: 2_000);
    }

    /// <summary>The listeners of a set, worked out directly: per (port, transport) the host, and each process, reachable when any socket is.</summary>
    private static IEnumerable<(int Port, Transport Transport, int ProcessId, bool Reachable)> Listeners(HostSocketEntry[] sockets) =>
        sockets.GroupBy(s => (s.Port, s.Transport)).SelectMany(at =>
            at.GroupBy(s => s.ProcessId).Select(p => (at.Key.Port, at.Key.Transport, p.Key, p.Any(s => s.Reachable)))
                .Append((at.Key.Port, at.Key.Transport, ListenerDelta.HostPresence, at.Any(s => s.Reachable))));

    private static List<ListenerDelta> Diff(HostSocket[] before, HostSocket[] after)
    {
        var changes = new List<ListenerDelta>();
        HostListeners.Diff(Entries(before, At), Entries(after, At), changes);
        return changes;
    }
}
