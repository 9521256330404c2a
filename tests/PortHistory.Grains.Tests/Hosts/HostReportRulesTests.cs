using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Grains.Hosts;
using static PortHistory.Grains.Tests.Hosts.HostCatalog;

namespace PortHistory.Grains.Tests.Hosts;

/// <summary>
/// The checks of differential reporting against what a host grain holds: an epoch begins with a snapshot, a change
/// follows the seq before it and must end at the digest it names, a seq applied before is a duplicate, and whatever
/// does not follow asks the agent for a snapshot.
/// </summary>
public sealed class HostReportRulesTests
{
    private const ulong Epoch = 0x1111;
    private static readonly DateTime Started = At.AddDays(-1);
    private static readonly HostSocket[] Web = Set(0b0000_0111);
    private static readonly HostSocket[] Db = Set(0b0100_0001);

    private readonly HeldHost _host = new();

    [Theory]
    [InlineData(HostReportKind.Changes)]
    [InlineData(HostReportKind.Heartbeat)]
    public void An_unknown_host_must_begin_with_a_snapshot(HostReportKind kind)
    {
        var first = kind == HostReportKind.Changes ? Changes(Epoch, Started, 1, [], Web, At) : Heartbeat(Epoch, Started, 1, [], At);

        Assert.IsType<HostDecision.Resync>(_host.Report(first));
        Assert.Equal(0UL, _host.Held.EpochId);

        var snapshot = Assert.IsType<HostDecision.Apply>(_host.Report(Snapshot(Epoch, Started, 1, Web, At)));
        Assert.Equal(Identities(Entries(Web, At)), Identities(snapshot.Sockets));
    }

    [Fact]
    public void A_change_with_the_next_seq_and_the_digest_of_its_result_is_applied()
    {
        _host.Report(Snapshot(Epoch, Started, 1, Web, At));

        var decision = _host.Report(Changes(Epoch, Started, 2, Web, Db, At.AddMinutes(1)));

        var apply = Assert.IsType<HostDecision.Apply>(decision);
        Assert.Equal(Identities(Entries(Db, At)), Identities(apply.Sockets));
        Assert.Equal((2UL, SocketSetHash.Of(Db)), (_host.Held.Seq, _host.Held.SetHash));
    }

    [Fact]
    public void A_socket_kept_through_a_change_keeps_the_time_the_host_first_had_it()
    {
        _host.Report(Snapshot(Epoch, Started, 1, Web, At));
        _host.Report(Changes(Epoch, Started, 2, Web, Db, At.AddMinutes(1)));

        var kept = Entry(Web.Intersect(Db).Single(), At);
        var added = Entry(Db.Except(Web).Single(), At);
        Assert.Equal(At, _host.Held.Sockets.Single(s => s.SameSocket(kept)).Since);
        Assert.Equal(At.AddMinutes(1), _host.Held.Sockets.Single(s => s.SameSocket(added)).Since);
    }

    [Fact]
    public void A_gap_in_seq_asks_for_a_snapshot_and_changes_nothing()
    {
        _host.Report(Snapshot(Epoch, Started, 1, Web, At));

        Assert.IsType<HostDecision.Resync>(_host.Report(Changes(Epoch, Started, 3, Web, Db, At)));
        Assert.Equal((1UL, SocketSetHash.Of(Web)), (_host.Held.Seq, _host.Held.SetHash));
    }

    [Fact]
    public void A_seq_applied_before_is_a_duplicate_and_leaves_the_set_as_it_is()
    {
        var snapshot = Snapshot(Epoch, Started, 1, Web, At);
        var change = Changes(Epoch, Started, 2, Web, Db, At);
        _host.Report(snapshot);
        _host.Report(change);
        var held = _host.Held;

        Assert.IsType<HostDecision.Duplicate>(_host.Report(change));
        Assert.IsType<HostDecision.Duplicate>(_host.Report(snapshot));
        Assert.IsType<HostDecision.Duplicate>(_host.Report(Changes(Epoch, Started, 2, Db, Web, At)));
        Assert.Same(held, _host.Held);
    }

    [Fact]
    public void A_change_whose_result_does_not_match_its_digest_asks_for_a_snapshot()
    {
        _host.Report(Snapshot(Epoch, Started, 1, Web, At));
        var change = Changes(Epoch, Started, 2, Web, Db, At);

        var decision = _host.Report(change with { SetHash = SocketSetHash.Of(Web.Concat(Db)) });

        Assert.IsType<HostDecision.Resync>(decision);
        Assert.Equal(Identities(Entries(Web, At)), Identities(_host.Held.Sockets));
        Assert.IsType<HostDecision.Apply>(_host.Report(change));
    }

    [Fact]
    public void A_change_that_removes_a_socket_never_held_or_adds_one_held_asks_for_a_snapshot()
    {
        _host.Report(Snapshot(Epoch, Started, 1, Web, At));
        var absent = Sockets.Except(Web).First();
        var present = Web[0];

        // Digests as a confused agent would compute them from its own set: the toggles alone cannot tell.
        var removal = Changes(Epoch, Started, 2, [], [absent], SocketSetHash.Of(Web) ^ SocketSetHash.Member(absent), At);
        var addition = Changes(Epoch, Started, 2, [present], [], SocketSetHash.Of(Web) ^ SocketSetHash.Member(present), At);

        Assert.Contains("does not have", Assert.IsType<HostDecision.Resync>(_host.Report(removal)).Reason);
        Assert.Contains("has already", Assert.IsType<HostDecision.Resync>(_host.Report(addition)).Reason);
        Assert.Equal(1UL, _host.Held.Seq);
    }

    [Fact]
    public void A_new_epoch_begins_with_a_snapshot_whatever_its_seq_and_not_with_a_change()
    {
        _host.Report(Snapshot(Epoch, Started, 1, Web, At));
        _host.Report(Changes(Epoch, Started, 2, Web, Db, At));
        const ulong next = Epoch + 1;
        var restarted = At.AddHours(1);

        Assert.IsType<HostDecision.Resync>(_host.Report(Changes(next, restarted, 1, Db, Web, restarted)));
        Assert.IsType<HostDecision.Resync>(_host.Report(Heartbeat(next, restarted, 2, Db, restarted)));
        Assert.Equal(Epoch, _host.Held.EpochId);

        var apply = Assert.IsType<HostDecision.Apply>(_host.Report(Snapshot(next, restarted, 1, Web, restarted)));
        Assert.Equal(Identities(Entries(Web, At)), Identities(apply.Sockets));
        Assert.Equal((next, 1UL, restarted), (_host.Held.EpochId, _host.Held.Seq, _host.Held.EpochStartedAt));
    }

    [Fact]
    public void An_epoch_that_began_before_the_held_one_is_refused_even_as_a_snapshot()
    {
        _host.Report(Snapshot(Epoch, Started, 1, Web, At));
        var held = _host.Held;

        var older = Snapshot(Epoch + 7, Started.AddSeconds(-1), 1, Db, At);

        Assert.Contains("before the epoch", Assert.IsType<HostDecision.Resync>(_host.Report(older)).Reason);
        Assert.Same(held, _host.Held);
    }

    [Fact]
    public void A_heartbeat_matching_the_held_seq_and_digest_is_alive_and_anything_else_asks_for_a_snapshot()
    {
        _host.Report(Snapshot(Epoch, Started, 1, Web, At));
        _host.Report(Changes(Epoch, Started, 2, Web, Db, At));
        var held = _host.Held;

        Assert.IsType<HostDecision.Alive>(_host.Report(Heartbeat(Epoch, Started, 2, Db, At)));
        Assert.IsType<HostDecision.Resync>(_host.Report(Heartbeat(Epoch, Started, 2, Web, At)));
        Assert.IsType<HostDecision.Resync>(_host.Report(Heartbeat(Epoch, Started, 1, Db, At)));
        Assert.IsType<HostDecision.Resync>(_host.Report(Heartbeat(Epoch, Started, 3, Db, At)));
        Assert.Same(held, _host.Held);
    }

    [Fact]
    public void A_snapshot_with_the_next_seq_replaces_the_set_whatever_the_set_held()
    {
        _host.Report(Snapshot(Epoch, Started, 1, Web, At));
        _host.Report(Changes(Epoch, Started, 2, Web, Db, At));

        var apply = Assert.IsType<HostDecision.Apply>(_host.Report(Snapshot(Epoch, Started, 3, Set(AllMask), At)));

        Assert.Equal(Identities(Entries(Sockets, At)), Identities(apply.Sockets));
        Assert.Equal(SocketSetHash.Of(Sockets), _host.Held.SetHash);
    }

    [Fact]
    public void A_snapshot_is_held_sorted_and_once_whatever_order_it_lists_its_sockets_in()
    {
        HostSocket[] sent = [.. Web.Reverse(), Web[0]];
        var snapshot = Snapshot(Epoch, Started, 1, Web, At) with { Added = [.. sent.Select(s => Entry(s, At))] };

        var apply = Assert.IsType<HostDecision.Apply>(_host.Report(snapshot));

        Assert.Equal(Identities(Entries(Web, At)), Identities(apply.Sockets));
        Assert.IsType<HostDecision.Apply>(_host.Report(Changes(Epoch, Started, 2, Web, Db, At)));
    }

    [Fact]
    public void A_snapshot_after_a_gap_in_seq_replaces_the_set_as_the_answer_to_resync()
    {
        _host.Report(Snapshot(Epoch, Started, 1, Web, At));
        Assert.IsType<HostDecision.Resync>(_host.Report(Changes(Epoch, Started, 3, Db, Web, At)));

        Assert.IsType<HostDecision.Apply>(_host.Report(Snapshot(Epoch, Started, 4, Db, At)));
        Assert.Equal((4UL, SocketSetHash.Of(Db)), (_host.Held.Seq, _host.Held.SetHash));
    }
}
