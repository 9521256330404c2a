using CsCheck;
using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Server.Apis;
using PortHistory.Server.Application.Watch;

namespace PortHistory.Server.UnitTests.Apis;

/// <summary>
/// A WatchRequest at the gateway: every field is checked (defined enum values only, bounded lists, ranges within
/// 0-65535), the cursor too, and the filter it gives lets a reader see no host events.
/// </summary>
public sealed class WatchRequestsTests
{
    private static readonly Gen<PortRange> Ranges = Gen.Select(Gen.UInt[0, 70_000], Gen.UInt[0, 70_000], (a, b) => new PortRange { First = a, Last = b });

    private static readonly Gen<WatchRequest> Requests = Gen.Select(
        Ranges.Array[0, 66], Gen.Int[-2, 6].Array[0, 6], Gen.Int[-2, 12].Array[0, 18], Gen.OneOf(Gen.Const(""), Gen.String[1, 300]).Array[0, 66],
        Gen.Int[-1, 10].Array[0, 18],
        (ports, transports, verdicts, names, kinds) => new WatchRequest
        {
            Ports = { ports },
            Transports = { transports.Select(t => (Transport)t) },
            Verdicts = { verdicts.Select(v => (VerdictKind)v) },
            ProcessNames = { names },
            Kinds = { kinds.Select(k => (WatchEventKind)k) },
        });

    [Fact]
    public void A_request_is_refused_exactly_when_a_field_is_out_of_bounds_and_the_refusal_names_that_field()
    {
        Requests.Sample(request =>
        {
            var reasons = Invalid(request).ToList();
            try
            {
                var filter = WatchRequests.Filter(request);
                Assert.Empty(reasons);
                Assert.Equal(request.Ports.Count, filter.Ports.Count);
                Assert.Equal(request.Transports.Distinct().Count(), filter.Transports.Count);
            }
            catch (RpcException e)
            {
                Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
                Assert.Contains(reasons, field => e.Status.Detail.StartsWith(field, StringComparison.Ordinal));
            }
        }, iter: 2_000);
    }

    [Fact]
    public void A_cursor_beyond_what_a_signed_cursor_holds_is_refused_and_an_absent_one_means_from_now()
    {
        Assert.Null(WatchRequests.After(new WatchRequest()));
        Assert.Equal(0L, WatchRequests.After(new WatchRequest { AfterCursor = 0 }));
        Assert.Equal(long.MaxValue, WatchRequests.After(new WatchRequest { AfterCursor = long.MaxValue }));
        var refused = Assert.Throws<RpcException>(() => WatchRequests.After(new WatchRequest { AfterCursor = ulong.MaxValue }));
        Assert.StartsWith("after_cursor", refused.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Host_events_reach_only_filters_that_may_see_hosts_whatever_else_they_name()
    {
        var any = WatchRequests.Filter(new WatchRequest());
        var reader = any with { HostEvents = false };
        var hostKinds = Enum.GetValues<WatchEventKind>().Where(WatchFilter.IsHostEvent).ToList();
        Assert.Equal(3, hostKinds.Count);
        foreach (var kind in Enum.GetValues<WatchEventKind>().Where(k => k != WatchEventKind.Unspecified))
        {
            var e = new WatchEvent { Kind = kind, Port = 22, Transport = Transport.Tcp, HostRef = "host-a" };
            Assert.True(any.Matches(e));
            Assert.Equal(!hostKinds.Contains(kind), reader.Matches(e));
            // Asking for the kind by name does not let a reader see it either.
            var named = WatchRequests.Filter(new WatchRequest { Kinds = { kind } }) with { HostEvents = false };
            Assert.Equal(!hostKinds.Contains(kind), named.Matches(e));
        }
    }

    /// <summary>The fields a request breaks, each as the prefix its refusal starts with.</summary>
    private static IEnumerable<string> Invalid(WatchRequest request)
    {
        if (request.Ports.Count > 64) yield return "ports";
        if (request.Transports.Count > 4) yield return "transports";
        if (request.Verdicts.Count > 16) yield return "verdicts";
        if (request.ProcessNames.Count > 64) yield return "process_names";
        if (request.Kinds.Count > 16) yield return "kinds";
        for (var i = 0; i < request.Ports.Count; i++)
        {
            if (request.Ports[i].First > 65535 || request.Ports[i].Last > 65535 || request.Ports[i].Last < request.Ports[i].First) yield return $"ports[{i}]";
        }

        for (var i = 0; i < request.Transports.Count; i++)
        {
            if (request.Transports[i] is < Transport.Tcp or > Transport.Dccp) yield return $"transports[{i}]";
        }

        for (var i = 0; i < request.Verdicts.Count; i++)
        {
            if (request.Verdicts[i] == VerdictKind.Unspecified || !Enum.IsDefined(request.Verdicts[i])) yield return $"verdicts[{i}]";
        }

        for (var i = 0; i < request.ProcessNames.Count; i++)
        {
            // A process name is a name (no "/" or whitespace inside), by the wire text policy: one rule, tested on its own (WireTextTests).
            var name = request.ProcessNames[i].Trim();
            if (name.Length == 0 || PortHistory.Contracts.WireText.CheckName(name, 256) is not null) yield return $"process_names[{i}]";
        }

        for (var i = 0; i < request.Kinds.Count; i++)
        {
            if (request.Kinds[i] == WatchEventKind.Unspecified || !Enum.IsDefined(request.Kinds[i])) yield return $"kinds[{i}]";
        }
    }
}
