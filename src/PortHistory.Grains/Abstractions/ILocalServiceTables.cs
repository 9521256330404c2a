using PortHistory.Contracts.V1;

namespace PortHistory.Grains.Abstractions;

/// <summary>What the imported local service tables (/etc/services, nmap-services) say, per port, as this silo last read them.</summary>
public interface ILocalServiceTables
{
    /// <summary>The tables' lines about a port (one transport, or every transport), tables in import order.</summary>
    IReadOnlyList<LocalServiceEntry> For(int port, Transport transport = Transport.Unspecified);
}
