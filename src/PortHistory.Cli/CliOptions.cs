using System.CommandLine;
using System.Globalization;
using PortHistory.Registry.Model;

namespace PortHistory.Cli;

/// <summary>Options every verb understands, and the parsing of the values users type.</summary>
public static class CliOptions
{
    public static readonly Option<string[]> Editions = new("--editions")
    {
        Description = "Directory of edition files to read (offline mode); repeatable. Default: $PORTHISTORY_EDITIONS.",
        Recursive = true,
        AllowMultipleArgumentsPerToken = false,
    };

    public static readonly Option<string[]> Edition = new("--edition")
    {
        Description = "Edition file to read (offline mode); repeatable.",
        Recursive = true,
        AllowMultipleArgumentsPerToken = false,
    };

    public static readonly Option<string?> Server = new("--server")
    {
        Description = "PortHistory server URL, e.g. http://127.0.0.1:7710. Default: $PORTHISTORY_SERVER.",
        Recursive = true,
    };

    public static readonly Option<string?> Token = new("--token")
    {
        Description = "Bearer token for the server. Default: $PORTHISTORY_TOKEN.",
        Recursive = true,
    };

    public static readonly Option<bool> AsJson = new("--json")
    {
        Description = "Write JSON for scripts instead of tables.",
        Recursive = true,
    };

    public static readonly Option<string?> Transport = new("--transport", "-t") { Description = "tcp, udp, sctp or dccp." };

    public static readonly Option<string?> AsOf = new("--as-of") { Description = "Date (yyyy-MM-dd): answer from the edition in effect then." };

    public static int ParsePort(string? text)
    {
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= PortSpan.MaxPort) return port;
        throw new Sources.UsageException($"port must be a number 0-65535, got \"{text}\"");
    }

    public static TransportProtocol? ParseTransport(string? text)
    {
        if (text is null) return null;
        if (TransportProtocols.TryParse(text, out var transport) && transport != Registry.Model.TransportProtocol.Unspecified) return transport;
        throw new Sources.UsageException($"transport must be tcp, udp, sctp or dccp, got \"{text}\"");
    }

    public static DateOnly? ParseDate(string? text, string option)
    {
        if (text is null) return null;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)) return date;
        throw new Sources.UsageException($"{option} must be a date yyyy-MM-dd, got \"{text}\"");
    }

    public static PortSpan? ParseRange(string? text, string option)
    {
        if (text is null) return null;
        if (PortSpan.TryParse(text, out var range)) return range;
        throw new Sources.UsageException($"{option} must be a port or range within 0-65535 such as 0-1023, got \"{text}\"");
    }

    public static RecordStatus? ParseStatus(string? text)
    {
        if (text is null) return null;
        if (RecordStatuses.TryParse(text, out var status)) return status;
        throw new Sources.UsageException($"status must be assigned, reserved, unassigned, de-assigned or conventional, got \"{text}\"");
    }
}
