using System.Collections.Immutable;
using System.Text;
using PortHistory.Registry.Formats;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;
using PortHistory.Testing;

namespace PortHistory.Registry.Tests;

/// <summary>
/// The ledger a server appends editions to holds what a full build of the same editions holds: segments, versions
/// and their changes, name-only registrations, holdings and renames, on the sixteen real editions; also when cut back
/// and appended again, or restored from what storage keeps.
/// </summary>
public sealed class HistoryLedgerTests(HistoryFixture fixture) : IClassFixture<HistoryFixture>
{
    private readonly RegistryHistory _history = fixture.History;

    private HistoryLedger AppendAll(HistoryLedger ledger, IEnumerable<RegistryEdition> editions) =>
        editions.Aggregate(ledger, (current, edition) => current.Append(edition));

    private HistoryLedger Full => AppendAll(HistoryLedger.Empty, _history.Editions);

    [Fact]
    public void Appending_every_edition_in_order_gives_what_a_full_build_gives()
    {
        var ledger = Full;
        Assert.Equal(_history.EditionRefs.ToList(), ledger.Editions.ToList());
        foreach (var transport in TransportProtocols.All)
        {
            var expected = _history.Segments(transport).Where(s => !s.Versions.IsEmpty).Select(s => (s.Ports, Describe(s.Versions))).ToList();
            var actual = ledger.Segments(transport).Where(s => !s.Versions.IsEmpty).Select(s => (s.Ports, Describe(ledger.Versions(s.Versions)))).ToList();
            Assert.Equal(expected.Count, actual.Count);
            for (var i = 0; i < expected.Count; i++) Assert.Equal(expected[i], actual[i]);
        }

        Assert.Equal(_history.NameOnlyTimelines.Select(t => (t.Name, t.Transport, Describe(t.Versions))),
            ledger.NameOnly.Select(t => (t.Name, t.Transport, Describe(ledger.Versions(t.Versions)))));

        var holdings = LedgerIndexes.Holdings(ledger);
        var names = _history.AllHoldings.Select(h => h.Name.ToLowerInvariant()).Distinct().ToList();
        Assert.Equal(names.Order(StringComparer.Ordinal), holdings.Keys.Order(StringComparer.Ordinal));
        foreach (var name in names) Assert.Equal(_history.FindService(name), holdings[name]);
        Assert.Equal(_history.Renames.ToList(), LedgerIndexes.Renames(ledger).ToList());
    }

    [Fact]
    public void A_port_timeline_from_the_ledger_is_the_full_builds()
    {
        var ledger = Full;
        foreach (var port in new[] { 0, 2, 7, 770, 771, 776, 1024, 49151, 50000, 65535 })
        {
            foreach (var transport in TransportProtocols.All)
            {
                Assert.Equal(Describe(_history.Timeline(port, transport).Versions), Describe(ledger.Timeline(port, transport)));
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(9)]
    [InlineData(15)]
    public void Cut_back_and_appended_again_the_ledger_is_the_same(int count)
    {
        var full = Full;
        var again = AppendAll(full.Truncate(count), _history.Editions.Skip(count));
        Assert.Equal(Snapshot(full), Snapshot(again));
        Assert.Equal(full.ChangeCounts(), again.ChangeCounts());
    }

    [Fact]
    public void Restored_from_what_storage_keeps_the_ledger_appends_as_before_but_cannot_be_cut_back()
    {
        var before = AppendAll(HistoryLedger.Empty, _history.Editions.Take(15));
        var restored = HistoryLedger.Restore(before.Editions,
            TransportProtocols.All.ToDictionary(t => t, t => (IReadOnlyList<(PortSpan, ImmutableArray<LedgerVersion>)>)
                [.. before.Segments(t).Where(s => !s.Versions.IsEmpty).Select(s => (s.Ports, Copy(s.Versions)))]),
            before.NameOnly.Select(n => n with { Versions = Copy(n.Versions) }));
        Assert.False(restored.CanTruncate);
        Assert.Throws<InvalidOperationException>(() => restored.Truncate(3));
        Assert.Equal(Snapshot(Full), Snapshot(restored.Append(_history.Editions[15])));
    }

    [Fact]
    public void An_edition_older_than_the_newest_is_not_appended()
    {
        var ledger = Full;
        var error = Assert.Throws<ArgumentException>(() => ledger.Append(_history.Editions[3] with { Id = "rfc1340-again", Sha256 = "other" }));
        Assert.Contains("sorts before iana-xml-2026-08-17", error.Message);
        Assert.False(ledger.FollowsNewest(EditionIdentity.Of(_history.Editions[3])));
    }

    [Fact]
    public void An_edition_that_changes_only_its_date_and_layout_changes_nothing()
    {
        var ledger = Full;
        var text = Encoding.UTF8.GetString(RegistryData.Bytes("service-names-port-numbers_2026-08-17.xml"))
            .Replace("<updated>2026-08-17</updated>", "<updated>2026-08-24</updated>", StringComparison.Ordinal)
            .Replace("\n  <record", "\n\n    <record", StringComparison.Ordinal);
        var relaid = EditionReader.Read(new EditionContent(Encoding.UTF8.GetBytes(text), "relaid.xml"));
        Assert.Equal(new DateOnly(2026, 8, 24), relaid.EffectiveDate);

        var counts = ledger.Append(relaid).ChangeCounts();
        Assert.Equal(0, counts[^1]);
        Assert.True(counts[^2] > 0, "the real 2026-08-17 edition changed something");
        Assert.All(ledger.ChangeCounts().Zip(counts), pair => Assert.Equal(pair.First, pair.Second));
    }

    /// <summary>What the ledger answers, as text: every segment with versions, the name-only timelines, holdings, renames.</summary>
    private static string Snapshot(HistoryLedger ledger)
    {
        var text = new StringBuilder();
        foreach (var transport in TransportProtocols.All)
        {
            foreach (var segment in ledger.Segments(transport))
            {
                text.Append(transport).Append(' ').Append(segment.Ports).Append(": ").AppendLine(Describe(ledger.Versions(segment.Versions)));
            }
        }

        foreach (var timeline in ledger.NameOnly) text.Append(timeline.Name).Append(": ").AppendLine(Describe(ledger.Versions(timeline.Versions)));
        foreach (var (name, holdings) in LedgerIndexes.Holdings(ledger).OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            text.Append(name).Append(": ").AppendJoin("; ", holdings).AppendLine();
        }

        return text.AppendJoin("\n", LedgerIndexes.Renames(ledger)).ToString();
    }

    private static string Describe(ImmutableArray<RecordVersion> versions) => string.Join(" | ", versions.Select(v =>
        $"{v.From.Id}..{v.Through.Id} ({v.EditionCount}) [{string.Join(", ", v.Records.Select(r => $"{r} L{r.Line} {RegistryHistory.StateKey([r])}"))}] " +
        $"{string.Join(", ", v.Changes)}"));

    private static ImmutableArray<LedgerVersion> Copy(ImmutableArray<LedgerVersion> versions) =>
        [.. versions.Select(v => LedgerVersion.Restore(v.From, v.Records, v.Changes, v.FirstListed))];
}
