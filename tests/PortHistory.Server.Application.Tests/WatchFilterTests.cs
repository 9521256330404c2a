using CsCheck;
using PortHistory.Contracts.V1;
using PortHistory.Registry.Model;
using PortHistory.Server.Application.Watch;

namespace PortHistory.Server.Application.Tests;

/// <summary>
/// Watch filters: the settings' words parse to the same filters as a WatchRequest (which the gateway checks field by
/// field: WatchRequestsTests), and a filter keeps exactly the events it names.
/// </summary>
public sealed class WatchFilterTests
{
    [Fact]
    public void The_settings_words_name_every_defined_value_and_nothing_else()
    {
        foreach (var kind in Enum.GetValues<WatchEventKind>().Where(k => k != WatchEventKind.Unspecified))
        {
            var (filter, error) = WatchFilterText.Parse([], [], [], [], [WatchFilterText.Word(kind)]);
            Assert.Null(error);
            Assert.Equal(new[] { kind }, filter!.Kinds);
        }

        foreach (var verdict in Enum.GetValues<VerdictKind>().Where(k => k != VerdictKind.Unspecified))
        {
            Assert.Equal(new[] { verdict }, WatchFilterText.Parse([], [], [WatchFilterText.Word(verdict)], [], []).Filter!.Verdicts);
        }

        Assert.Equal(new[] { Transport.Udp }, WatchFilterText.Parse([], ["udp"], [], [], []).Filter!.Transports);
        Assert.Equal((770, 777), WatchFilterText.Parse(["770-777"], [], [], [], []).Filter!.Ports.Select(r => (r.First, r.Last)).Single());
        Assert.StartsWith("Kinds", WatchFilterText.Parse([], [], [], [], ["unspecified"]).Error);
        Assert.StartsWith("Verdicts", WatchFilterText.Parse([], [], ["squatters"], [], []).Error);
        Assert.StartsWith("Ports", WatchFilterText.Parse(["70000"], [], [], [], []).Error);
        Assert.StartsWith("ProcessNames", WatchFilterText.Parse([], [], [], [""], []).Error);
    }

    [Fact]
    public void A_filter_keeps_an_event_only_when_every_field_it_sets_matches()
    {
        // Verdict events carry no process name, only the processes their verdict names ("java (kafka.Kafka)").
        string[][] observedLists = [[], ["java (kafka.Kafka)"], ["nfsd"], ["rpc.statd", "java (zookeeper.jar)"]];
        var events = Gen.Select(Gen.UInt[0, 2000], Gen.Int[1, 4], Gen.Int[1, 4], Gen.Int[0, 6], Gen.Int[0, 6], Gen.OneOf<string>(["", "nfsd", "rpc.statd", "java"]),
            Gen.Int[0, observedLists.Length - 1],
            (port, transport, kind, oldVerdict, newVerdict, process, observed) => new WatchEvent
            {
                Port = port, Transport = (Transport)transport, Kind = (WatchEventKind)kind, OldVerdict = (VerdictKind)oldVerdict,
                NewVerdict = (VerdictKind)newVerdict, ProcessName = process,
                ObservedProcesses = { observedLists[observed] },
            });
        var filters = Gen.Select(Gen.Int[0, 3], Gen.Int[0, 4], Gen.Int[0, 6], Gen.OneOf<string>(["", "NFSD", "java"]), Gen.Int[0, 4],
            (range, transport, verdict, name, kind) => (
                Range: range == 0 ? (PortSpan?)null : new PortSpan(range * 500, range * 500 + 499),
                Transport: (Transport)transport, Verdict: (VerdictKind)verdict, Name: name, Kind: (WatchEventKind)kind));

        Gen.Select(events, filters).Sample((e, f) =>
        {
            var filter = new WatchFilter(
                f.Range is { } r ? [r] : [],
                f.Transport == Transport.Unspecified ? new HashSet<Transport>() : [f.Transport],
                f.Verdict == VerdictKind.Unspecified ? new HashSet<VerdictKind>() : [f.Verdict],
                f.Name.Length == 0 ? new HashSet<string>(StringComparer.OrdinalIgnoreCase) : new HashSet<string>([f.Name], StringComparer.OrdinalIgnoreCase),
                f.Kind == WatchEventKind.Unspecified ? new HashSet<WatchEventKind>() : [f.Kind]);
            var expected = (f.Range is null || (e.Port >= f.Range.Value.First && e.Port <= f.Range.Value.Last))
                           && (f.Transport == Transport.Unspecified || e.Transport == f.Transport)
                           && (f.Verdict == VerdictKind.Unspecified || e.NewVerdict == f.Verdict || e.OldVerdict == f.Verdict)
                           && (f.Name.Length == 0 || string.Equals(e.ProcessName, f.Name, StringComparison.OrdinalIgnoreCase)
                               || e.ObservedProcesses.Any(o => string.Equals(o.Split(" (")[0], f.Name, StringComparison.OrdinalIgnoreCase)))
                           && (f.Kind == WatchEventKind.Unspecified || e.Kind == f.Kind);
            Assert.Equal(expected, filter.Matches(e));
        }, iter: 5_000);
    }
}
