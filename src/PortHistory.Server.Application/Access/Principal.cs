using PortHistory.Contracts.V1;

namespace PortHistory.Server.Application.Access;

/// <summary>Who is calling: the token's id, name and role, and for a per-host credential the one host it reports for.</summary>
public sealed record Principal(string TokenId, string Name, Role Role, string? HostRef = null)
{
    public bool IsAdmin => Role == Role.Admin;
}
