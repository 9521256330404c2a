namespace PortHistory.Registry.Model;

/// <summary>Transport protocol of a port assignment. <see cref="Unspecified"/> is a record that names no protocol.</summary>
public enum TransportProtocol : byte
{
    Unspecified = 0,
    Tcp = 1,
    Udp = 2,
    Sctp = 3,
    Dccp = 4,
}

public static class TransportProtocols
{
    /// <summary>The four transports a port number can be assigned on, in display order.</summary>
    public static readonly IReadOnlyList<TransportProtocol> All = [TransportProtocol.Tcp, TransportProtocol.Udp, TransportProtocol.Sctp, TransportProtocol.Dccp];

    /// <summary>
    /// Whether a port's answer lists the transport when the caller asked for none: tcp and udp always; sctp and dccp,
    /// unassigned almost everywhere, only when their record in effect says something else.
    /// </summary>
    public static bool ShownUnasked(TransportProtocol transport, RecordStatus? status) =>
        transport is TransportProtocol.Tcp or TransportProtocol.Udp || status is { } known && known != RecordStatus.Unassigned;

    public static string ToText(this TransportProtocol transport) => transport switch
    {
        TransportProtocol.Tcp => "tcp",
        TransportProtocol.Udp => "udp",
        TransportProtocol.Sctp => "sctp",
        TransportProtocol.Dccp => "dccp",
        _ => "",
    };

    public static bool TryParse(string? text, out TransportProtocol transport)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "tcp": transport = TransportProtocol.Tcp; return true;
            case "udp": transport = TransportProtocol.Udp; return true;
            case "sctp": transport = TransportProtocol.Sctp; return true;
            case "dccp": transport = TransportProtocol.Dccp; return true;
            case "" or null: transport = TransportProtocol.Unspecified; return true;
            default: transport = TransportProtocol.Unspecified; return false;
        }
    }
}
