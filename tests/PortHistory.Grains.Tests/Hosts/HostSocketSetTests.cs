using CsCheck;
using PortHistory.Grains.Hosts;
using static PortHistory.Grains.Tests.Hosts.HostCatalog;

namespace PortHistory.Grains.Tests.Hosts;

/// <summary>A host's sockets as a sorted set: normalised, diffed, changed by additions and removals, since-times kept.</summary>
public sealed class HostSocketSetTests
{
    private static readonly Gen<(int, int, int)> ThreeSets = Gen.Select(Gen.Int[0, AllMask], Gen.Int[0, AllMask], Gen.Int[0, AllMask]);

    [Fact]
    public void Normalising_sorts_by_identity_and_keeps_one_of_each_socket()
    {
        Gen.Int[0, Sockets.Length - 1].Array[0, 20].Sample(picks =>
        {
            var entries = picks.Select((i, n) => Entry(Sockets[i], At.AddMinutes(n))).ToArray();

            var set = HostSocketSet.Normalize(entries);

            Assert.Equal(picks.Distinct().Count(), set.Length);
            for (var i = 1; i < set.Length; i++) Assert.True(set[i - 1].CompareTo(set[i]) < 0);
            Assert.All(entries, e => Assert.Contains(set, s => s.SameSocket(e)));
        });
    }

    [Fact]
    public void The_diff_of_two_sets_is_what_one_has_and_the_other_has_not()
    {
        Gen.Select(Gen.Int[0, AllMask], Gen.Int[0, AllMask]).Sample((before, after) =>
        {
            var (added, removed) = HostSocketSet.Diff(Entries(Set(before), At), Entries(Set(after), At.AddHours(1)));

            Assert.Equal(Identities(Entries(Set(after & ~before), At)), Identities(added));
            Assert.Equal(Identities(Entries(Set(before & ~after), At)), Identities(removed));
        });
    }

    [Fact]
    public void A_change_applies_when_it_removes_only_what_is_held_and_adds_only_what_is_not()
    {
        ThreeSets.Sample((before, added, removed) =>
        {
            var held = Entries(Set(before), At);

            var (set, problem) = HostSocketSet.Apply(held, Entries(Set(added), At.AddHours(1)), Entries(Set(removed), At.AddHours(1)));

            var applies = (removed & ~before) == 0 && (added & before & ~removed) == 0;
            Assert.Equal(applies, set is not null);
            Assert.Equal(applies, problem is null);
            if (set is null) return;
            Assert.Equal(Identities(Entries(Set((before & ~removed) | added), At)), Identities(set));
            // What was held and not removed keeps its time; what was added is new.
            Assert.All(set, s => Assert.Equal(held.Any(h => h.SameSocket(s)) && !Entries(Set(removed), At).Any(r => r.SameSocket(s)) ? At : At.AddHours(1), s.Since));
        });
    }

    [Fact]
    public void Keeping_since_times_changes_only_the_time_of_sockets_held_before()
    {
        Gen.Select(Gen.Int[0, AllMask], Gen.Int[0, AllMask]).Sample((before, after) =>
        {
            var merged = HostSocketSet.KeepSince(Entries(Set(before), At), Entries(Set(after), At.AddHours(1)));

            Assert.Equal(Identities(Entries(Set(after), At)), Identities(merged));
            var kept = Entries(Set(before & after), At);
            Assert.All(merged, s => Assert.Equal(kept.Any(k => k.SameSocket(s)) ? At : At.AddHours(1), s.Since));
        });
    }
}
