using PortHistory.Grains.Abstractions;
using PortHistory.Server.Application.Access;

namespace PortHistory.Server.Application.Hosts;

/// <summary>Retiring a host: its grain removes its sockets, and its credentials stop working.</summary>
public sealed class HostAdministration(KeyedGrains grains, HostCredentials credentials, ILogger<HostAdministration> logger)
{
    /// <param name="heardBefore">Only if the host has not been heard since (an automatic retirement of a silent host).</param>
    /// <returns>The host after and the credentials revoked; null when no such host was ever seen.</returns>
    public async Task<(HostRecord Host, int Revoked)?> RetireAsync(string hostRef, string reason, CancellationToken cancellationToken, DateTime? heardBefore = null)
    {
        var grain = grains.Host(hostRef);
        var state = await grain.RetireAsync(reason, heardBefore);
        if (state is null) return null;
        if (state != HostState.Retired) return ((await grain.GetAsync())!, 0);
        var revoked = (await credentials.RevokeHostAsync(hostRef, cancellationToken)).Count;
        logger.LogInformation("Retired host {HostRef} ({Reason}); {Revoked} credential(s) revoked", hostRef, reason, revoked);
        return ((await grain.GetAsync())!, revoked);
    }
}
