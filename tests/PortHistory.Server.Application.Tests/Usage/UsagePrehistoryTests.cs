using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Usage;

namespace PortHistory.Server.Application.Tests.Usage;

/// <summary>
/// The listeners hosts held when the usage history began: one start per host and listener, on that day, from the
/// sockets held since before it only (a socket since then was counted when it started), with the reach those sockets had.
/// </summary>
public sealed class UsagePrehistoryTests
{
    private static readonly DateTime Began = new(2026, 3, 10, 12, 0, 0, DateTimeKind.Utc);
    private const int Statd = 7;
    private const int Sshd = 8;

    [Fact]
    public void Each_host_adds_its_listeners_held_since_before_the_history_once_with_their_reach_then()
    {
        HostSocketEntry[] first =
        [
            Socket(22, Sshd, BindScope.Loopback, Began.AddDays(-30)),
            // Reachable only since after the history began: that change was counted then.
            Socket(22, Sshd, BindScope.Wildcard, Began.AddDays(2)),
            Socket(776, Statd, BindScope.Wildcard, Began.AddDays(-400)),
        ];
        HostSocketEntry[] second = [Socket(776, Statd, BindScope.Loopback, Began.AddSeconds(-1)), Socket(80, 9, BindScope.Wildcard, Began)];

        var deltas = UsagePrehistory.Deltas(Began, [first, second]);

        var day = DateOnly.FromDateTime(Began);
        Assert.Equal(
            [
                (22, ListenerDelta.HostPresence, false, 1),
                (22, Sshd, false, 1),
                // The host's presence is reachable where any of its processes there is.
                (776, ListenerDelta.HostPresence, false, 1),
                (776, ListenerDelta.HostPresence, true, 1),
                (776, Statd, false, 1),
                (776, Statd, true, 1),
            ],
            deltas.Select(d => (d.Port, d.ProcessId, d.Reachable, d.Added)));
        Assert.All(deltas, d => Assert.Equal((day, 0, Began, Began, (DateTime?)null), (d.Day, d.Removed, d.FirstAddedAt!.Value, d.LastAddedAt!.Value, d.LastRemovedAt)));
    }

    [Fact]
    public void Hosts_with_nothing_held_from_before_add_nothing()
    {
        Assert.Empty(UsagePrehistory.Deltas(Began, [[], [Socket(443, 3, BindScope.Wildcard, Began.AddMinutes(1))]]));
    }

    private static HostSocketEntry Socket(int port, int process, BindScope scope, DateTime since) =>
        new(port, port == 776 ? Transport.Udp : Transport.Tcp, process, scope, "", since);
}
