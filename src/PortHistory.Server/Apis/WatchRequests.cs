using PortHistory.Contracts.V1;
using PortHistory.Server.Application.Watch;

namespace PortHistory.Server.Apis;

/// <summary>A WatchRequest checked field by field into a <see cref="WatchFilter"/>: bounded lists of defined values.</summary>
public static class WatchRequests
{
    public static WatchFilter Filter(WatchRequest request)
    {
        Bounded(request.Ports.Count, WatchFilter.MaxRanges, "ports");
        Bounded(request.Transports.Count, WatchFilter.MaxTransports, "transports");
        Bounded(request.Verdicts.Count, WatchFilter.MaxVerdicts, "verdicts");
        Bounded(request.ProcessNames.Count, WatchFilter.MaxProcessNames, "process_names");
        Bounded(request.Kinds.Count, WatchFilter.MaxKinds, "kinds");
        var ranges = request.Ports.Select((r, i) => Requests.Range(r, $"ports[{i}]")!.Value).ToList();
        var transports = request.Transports.Select((t, i) => t != Transport.Unspecified && Enum.IsDefined(t)
            ? t
            : throw Requests.Invalid($"transports[{i}]", $"unknown transport {(int)t} (use tcp, udp, sctp or dccp)")).ToHashSet();
        var verdicts = request.Verdicts.Select((v, i) => v != VerdictKind.Unspecified && Enum.IsDefined(v)
            ? v
            : throw Requests.Invalid($"verdicts[{i}]", $"unknown verdict {(int)v}")).ToHashSet();
        var kinds = request.Kinds.Select((k, i) => k != WatchEventKind.Unspecified && Enum.IsDefined(k)
            ? k
            : throw Requests.Invalid($"kinds[{i}]", $"unknown event kind {(int)k}")).ToHashSet();
        var names = request.ProcessNames.Select((n, i) => Requests.Name(n, $"process_names[{i}]", WatchFilter.MaxProcessNameLength, required: true))
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        return new WatchFilter(ranges, transports, verdicts, names, kinds);
    }

    /// <summary>Where the stream starts: after the cursor given, or (null) from now.</summary>
    public static long? After(WatchRequest request)
    {
        if (!request.HasAfterCursor) return null;
        return request.AfterCursor <= long.MaxValue ? (long)request.AfterCursor : throw Requests.Invalid("after_cursor", $"not a cursor: {request.AfterCursor}");
    }

    private static void Bounded(int count, int max, string field)
    {
        if (count > max) throw Requests.Invalid(field, $"at most {max} entries, got {count}");
    }
}
