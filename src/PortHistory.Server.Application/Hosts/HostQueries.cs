using System.Text;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;

namespace PortHistory.Server.Application.Hosts;

/// <summary>The fleet's hosts as the Hosts service answers: pages of stored rows, and one host from its grain (exact last-seen time).</summary>
public sealed class HostQueries(IHostRows rows, KeyedGrains grains, HostSockets sockets)
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1_000;

    public async Task<ListHostsResponse> ListAsync(HostState? state, string? hostGroup, int pageSize, string pageToken, CancellationToken cancellationToken)
    {
        var after = pageToken.Length == 0 ? "" : Encoding.UTF8.GetString(Convert.FromBase64String(pageToken));
        var page = await rows.ListAsync(state, hostGroup, after, pageSize + 1, cancellationToken);
        var counts = await rows.CountAsync(cancellationToken);
        var response = new ListHostsResponse { Online = (ulong)counts.Online, Stale = (ulong)counts.Stale, Retired = (ulong)counts.Retired };
        response.Hosts.AddRange(page.Take(pageSize).Select(Summary));
        if (page.Count > pageSize) response.NextPageToken = Convert.ToBase64String(Encoding.UTF8.GetBytes(page[pageSize - 1].HostRef));
        return response;
    }

    /// <returns>Null when no such host was ever seen.</returns>
    public async Task<GetHostResponse?> GetAsync(string hostRef, CancellationToken cancellationToken)
    {
        if (await grains.Host(hostRef).GetAsync() is not { } host) return null;
        var response = new GetHostResponse { Host = Summary(host) };
        response.Sockets.AddRange(await sockets.ToWireAsync(host.Sockets, cancellationToken));
        return response;
    }

    public static HostSummary Summary(HostRecord host) => new()
    {
        HostRef = host.HostRef,
        State = host.State switch
        {
            HostState.Online => HostLiveness.Online,
            HostState.Stale => HostLiveness.Stale,
            _ => HostLiveness.Retired,
        },
        StateSince = Time(host.StateSince),
        HostGroup = host.HostGroup,
        AgentVersion = host.AgentVersion,
        LastSeen = Time(host.LastSeen),
        FirstSeen = Time(host.FirstSeen),
        LastSnapshotAt = host.LastSnapshotAt is { } at ? Time(at) : null,
        Sockets = (uint)host.Sockets.Length,
        DroppedReports = host.DroppedReports,
        DroppedBytes = host.DroppedBytes,
        Differential = host.EpochId != 0,
        Epoch = host.EpochId,
        Seq = host.Seq,
        AgentPrivileged = host.Privileged,
        RetiredReason = host.RetiredReason ?? "",
        SetHash = host.EpochId != 0 ? host.SetHash.ToByteString() : Google.Protobuf.ByteString.Empty,
    };

    private static Google.Protobuf.WellKnownTypes.Timestamp Time(DateTime at) =>
        Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.SpecifyKind(at, DateTimeKind.Utc));
}
