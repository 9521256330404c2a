namespace PortHistory.Registry.Model;

public enum EditionFileFormat : byte
{
    /// <summary>Assigned Numbers RFC full text (RFC 990, 1010, 1060, 1340, 1700).</summary>
    RfcAssignedNumbers = 1,

    /// <summary>IANA "port-numbers" plain-text registry (until 2010).</summary>
    IanaPortNumbersText = 2,

    /// <summary>IANA service-names-port-numbers.csv.</summary>
    IanaCsv = 3,

    /// <summary>IANA service-names-port-numbers.xml.</summary>
    IanaXml = 4,

    /// <summary>A host's /etc/services: local conventional use.</summary>
    EtcServices = 5,

    /// <summary>nmap-services: local conventional use with open frequencies.</summary>
    NmapServices = 6,
}

public static class EditionFileFormats
{
    public static string ToText(this EditionFileFormat format) => format switch
    {
        EditionFileFormat.RfcAssignedNumbers => "rfc",
        EditionFileFormat.IanaPortNumbersText => "iana-text",
        EditionFileFormat.IanaCsv => "iana-csv",
        EditionFileFormat.IanaXml => "iana-xml",
        EditionFileFormat.EtcServices => "services",
        EditionFileFormat.NmapServices => "nmap-services",
        _ => "unknown",
    };

    public static bool TryParse(string? text, out EditionFileFormat format)
    {
        foreach (var candidate in Enum.GetValues<EditionFileFormat>())
        {
            if (string.Equals(candidate.ToText(), text?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                format = candidate;
                return true;
            }
        }

        format = default;
        return false;
    }

    /// <summary>Local editions describe one host's or tool's conventions, not the registry; they stay out of timelines.</summary>
    public static bool IsLocal(this EditionFileFormat format) =>
        format is EditionFileFormat.EtcServices or EditionFileFormat.NmapServices;

    /// <summary>
    /// The transports a record without a protocol stands for. Early RFCs assign a number for TCP and, "to the
    /// extent possible", UDP; the text registry lists tcp/udp pairs; IANA XML/CSV leave the protocol out only
    /// where a number as a whole is unassigned or reserved, which holds for every transport.
    /// </summary>
    public static IReadOnlyList<TransportProtocol> UnspecifiedMeans(this EditionFileFormat format) => format switch
    {
        EditionFileFormat.IanaXml or EditionFileFormat.IanaCsv => TransportProtocols.All,
        _ => [TransportProtocol.Tcp, TransportProtocol.Udp],
    };

    /// <summary>Tie-break between editions with the same effective date (the 2024-04-30 CSV and XML, say).</summary>
    internal static int OrderRank(this EditionFileFormat format) => (int)format;
}
