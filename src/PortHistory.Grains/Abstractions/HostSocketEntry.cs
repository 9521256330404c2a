using PortHistory.Contracts.V1;

namespace PortHistory.Grains.Abstractions;

/// <summary>
/// One listening socket of a host as its grain holds it: the identity differential reporting uses (port, transport,
/// bind scope, the address for a specific bind, the process by its dictionary id) and since when the host has had it.
/// Ordered by port, transport, process, scope and address, the order host sets are kept and compared in.
/// </summary>
/// <param name="Address">The bound address for <see cref="BindScope.Specific"/>; "" otherwise.</param>
[GenerateSerializer, Immutable, Alias("porthistory.HostSocketEntry")]
public readonly record struct HostSocketEntry(
    [property: Id(0)] int Port,
    [property: Id(1)] Transport Transport,
    [property: Id(2)] int ProcessId,
    [property: Id(3)] BindScope Scope,
    [property: Id(4)] string Address,
    [property: Id(5)] DateTime Since) : IComparable<HostSocketEntry>
{
    /// <summary>A socket that any host on the network can reach (not only the host itself).</summary>
    public bool Reachable => Scope != BindScope.Loopback;

    /// <summary>Identity order; <see cref="Since"/> and the hash are not part of it.</summary>
    public int CompareTo(HostSocketEntry other)
    {
        var c = Port.CompareTo(other.Port);
        if (c != 0) return c;
        c = ((int)Transport).CompareTo((int)other.Transport);
        if (c != 0) return c;
        c = ProcessId.CompareTo(other.ProcessId);
        if (c != 0) return c;
        c = ((int)Scope).CompareTo((int)other.Scope);
        return c != 0 ? c : string.CompareOrdinal(Address, other.Address);
    }

    public bool SameSocket(HostSocketEntry other) => CompareTo(other) == 0;
}
