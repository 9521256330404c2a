using PortHistory.Server.Application.Access;

namespace PortHistory.Server.Application.Tests.Access;

public sealed class FakeHostApprovals : IHostApprovals
{
    public Dictionary<string, HostApproval> Hosts { get; } = new(StringComparer.Ordinal);

    public Task<bool> IsApprovedAsync(string hostRef, CancellationToken cancellationToken) =>
        Task.FromResult(Hosts.TryGetValue(hostRef, out var host) && host.Approved);

    public Task RecordRequestAsync(string hostRef, string requestedBy, CancellationToken cancellationToken)
    {
        Hosts.TryAdd(hostRef, new HostApproval(hostRef, false, DateTime.UtcNow, requestedBy, null, null));
        return Task.CompletedTask;
    }

    public Task<int> ApproveAsync(IReadOnlyCollection<string> hostRefs, string approvedBy, CancellationToken cancellationToken)
    {
        var approved = 0;
        foreach (var hostRef in hostRefs)
        {
            if (Hosts.TryGetValue(hostRef, out var host) && host.Approved) continue;
            Hosts[hostRef] = new HostApproval(hostRef, true, host?.RequestedAt, host?.RequestedBy, DateTime.UtcNow, approvedBy);
            approved++;
        }

        return Task.FromResult(approved);
    }

    public Task<IReadOnlyList<HostApproval>> ListAsync(int limit, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<HostApproval>>([.. Hosts.Values.OrderBy(h => h.Approved).Take(limit)]);
}
