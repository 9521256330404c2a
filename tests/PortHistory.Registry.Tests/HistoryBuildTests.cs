using System.Text;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;
using PortHistory.Testing;

namespace PortHistory.Registry.Tests;

/// <summary>How the history is built: edition order whatever the input order, one copy per edition, shared timelines for ranges.</summary>
public sealed class HistoryBuildTests(HistoryFixture fixture) : IClassFixture<HistoryFixture>
{
    private readonly RegistryHistory _history = fixture.History;

    [Fact]
    public void Editions_are_ordered_by_effective_date_whatever_the_input_order()
    {
        Assert.Equal(16, _history.Editions.Length);
        Assert.Equal(_history.Editions.OrderBy(e => e.EffectiveDate).Select(e => e.EffectiveDate), _history.Editions.Select(e => e.EffectiveDate));
        Assert.Equal("rfc990", _history.Editions[0].Id);
        Assert.Equal("iana-xml-2026-08-17", _history.Editions[^1].Id);
    }

    [Fact]
    public void Ports_inside_one_range_share_one_timeline_instead_of_one_copy_each()
    {
        var span = _history.Editions[^1].Records.First(r => r.Status == RecordStatus.Unassigned && r.Ports is { Count: > 100 }).Ports!.Value;

        Assert.True(_history.Timeline(span.First + 1, TransportProtocol.Sctp).Versions == _history.Timeline(span.Last - 1, TransportProtocol.Sctp).Versions);
        Assert.True(_history.Timeline(50000, TransportProtocol.Tcp).Versions == _history.Timeline(65535, TransportProtocol.Tcp).Versions);
        Assert.True(_history.Timeline(60000, TransportProtocol.Udp).IsEmpty);
    }

    [Fact]
    public void Adding_editions_in_any_order_yields_the_identical_history()
    {
        var editions = RegistryData.AllEditions();
        var expected = Dump(_history);
        foreach (var seed in new[] { 1, 7, 42 })
        {
            var shuffled = editions.OrderBy(_ => Random.Shared.Next()).ToList();
            new Random(seed).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(shuffled));
            Assert.Equal(expected, Dump(RegistryHistory.Build(shuffled)));
        }

        Assert.Equal(expected, Dump(RegistryHistory.Build(editions.Concat(editions.Reverse()))));
    }

    [Fact]
    public void Two_different_files_claiming_one_edition_id_are_refused()
    {
        var a = RegistryData.Edition("rfc1340.txt");
        var b = RegistryData.Edition("rfc1700.txt") with { Id = "rfc1340" };

        var error = Assert.Throws<ArgumentException>(() => RegistryHistory.Build([a, b]));
        Assert.Contains("rfc1340", error.Message);
    }

    /// <summary>Every timeline of every port and transport, written out: equal dumps mean equal histories.</summary>
    private static string Dump(RegistryHistory history)
    {
        var text = new StringBuilder();
        text.AppendJoin(",", history.Editions.Select(e => e.Id)).AppendLine();
        var seen = new Dictionary<object, int>(ReferenceEqualityComparer.Instance);
        foreach (var transport in TransportProtocols.All)
        {
            for (var port = 0; port <= PortSpan.MaxPort; port++)
            {
                var versions = history.Timeline(port, transport).Versions;
                if (versions.IsEmpty) continue;
                var array = System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsArray(versions)!;
                if (seen.TryGetValue(array, out var first))
                {
                    text.Append(port).Append(transport).Append('=').Append(first).AppendLine();
                    continue;
                }

                seen[array] = port;
                text.Append(port).Append(transport).Append(':');
                foreach (var v in versions)
                {
                    text.Append(v.From.Id).Append('-').Append(v.Through.Id).Append(" held since ").Append(v.HeldSince.Id).Append('/').Append(v.ConventionalSince?.Id).Append('[')
                        .AppendJoin(";", v.Records.Select(r => $"{r.ServiceName}|{r.Status}|{r.Description}|{r.Line}|{string.Join(",", r.Aliases)}|{string.Join(",", r.Contacts.Select(p => p.Key))}"))
                        .Append("](").AppendJoin(";", v.Changes).Append(')');
                }

                text.AppendLine();
            }
        }

        foreach (var name in new[] { "wpages", "rtip", "acmaint_dbd", "x11", "http" })
        {
            text.AppendJoin(";", history.FindService(name)).AppendJoin(";", history.RenameChain(name)).AppendLine();
        }

        return text.ToString();
    }
}
