using System.Runtime.CompilerServices;
using PortHistory.Contracts.V1;

namespace PortHistory.Cli.Sources;

/// <summary>The reporting hosts, from a PortHistory server (admin role): every page of the listing, one host, retirement.</summary>
public sealed class ServerHosts(ServerConnection server)
{
    /// <summary>Every host the filter keeps, page after page, with the fleet's counts from the first page.</summary>
    public async IAsyncEnumerable<(HostSummary Host, ListHostsResponse Page)> ListAsync(HostLiveness state, string? group,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListHostsRequest { State = state, HostGroup = group ?? "", PageSize = 500 };
        do
        {
            var page = await ServerConnection.Call(async () => await server.Hosts.ListHostsAsync(request, server.Headers, cancellationToken: cancellationToken));
            foreach (var host in page.Hosts) yield return (host, page);
            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken.Length > 0);
    }

    /// <summary>The fleet's counts alone (a listing's first page, empty).</summary>
    public Task<ListHostsResponse> CountAsync(CancellationToken cancellationToken) => ServerConnection.Call(async () =>
        await server.Hosts.ListHostsAsync(new ListHostsRequest { PageSize = 1 }, server.Headers, cancellationToken: cancellationToken));

    public Task<GetHostResponse> GetAsync(string hostRef, CancellationToken cancellationToken) => ServerConnection.Call(async () =>
        await server.Hosts.GetHostAsync(new GetHostRequest { HostRef = hostRef }, server.Headers, cancellationToken: cancellationToken));

    public Task<RetireHostResponse> RetireAsync(string hostRef, string reason, CancellationToken cancellationToken) => ServerConnection.Call(async () =>
        await server.Hosts.RetireHostAsync(new RetireHostRequest { HostRef = hostRef, Reason = reason }, server.Headers, cancellationToken: cancellationToken));
}
