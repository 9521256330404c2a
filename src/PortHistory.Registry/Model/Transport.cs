namespace PortHistory.Registry.Model;

/// <summary>Transport protocol of a port assignment. <see cref="Unspecified"/> is a record that names no protocol.</summary>
public enum Transport : byte
{
    Unspecified = 0,
    Tcp = 1,
    Udp = 2,
    Sctp = 3,
    Dccp = 4,
}

public static class Transports
{
    /// <summary>The four transports a port number can be assigned on, in display order.</summary>
    public static readonly IReadOnlyList<Transport> All = [Transport.Tcp, Transport.Udp, Transport.Sctp, Transport.Dccp];

    /// <summary>
    /// Whether a port's answer lists the transport when the caller asked for none: tcp and udp always; sctp and dccp,
    /// unassigned almost everywhere, only when their record in effect says something else.
    /// </summary>
    public static bool ShownUnasked(Transport transport, AssignmentStatus? status) =>
        transport is Transport.Tcp or Transport.Udp || status is { } known && known != AssignmentStatus.Unassigned;

    public static string ToText(this Transport transport) => transport switch
    {
        Transport.Tcp => "tcp",
        Transport.Udp => "udp",
        Transport.Sctp => "sctp",
        Transport.Dccp => "dccp",
        _ => "",
    };

    public static bool TryParse(string? text, out Transport transport)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "tcp": transport = Transport.Tcp; return true;
            case "udp": transport = Transport.Udp; return true;
            case "sctp": transport = Transport.Sctp; return true;
            case "dccp": transport = Transport.Dccp; return true;
            case "" or null: transport = Transport.Unspecified; return true;
            default: transport = Transport.Unspecified; return false;
        }
    }
}
