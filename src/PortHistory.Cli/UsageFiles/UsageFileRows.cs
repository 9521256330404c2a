using System.Globalization;
using PortHistory.Contracts;
using PortHistory.Contracts.V1;
using PortHistory.Registry.Model;
using PortHistory.Registry.Protobuf;

namespace PortHistory.Cli.UsageFiles;

/// <summary>Why a line of a usage file was refused, in the server's words: "line N: field: reason".</summary>
public sealed record UsageFileError(ulong Line, string Field, string Reason)
{
    public override string ToString() => $"line {Line}: {Field}: {Reason}";
}

/// <summary>One line of a usage file: a row to send, or why it cannot be sent.</summary>
public readonly record struct UsageFileEntry(ulong Line, UsageRow? Row, UsageFileError? Error);

/// <summary>
/// A row of a usage file from its fields as text, checked as the server will check them where the file alone can
/// tell (the day's format, the port, the transport's name, the process, counts that are whole, not negative and
/// within bounds), so that a bad file is refused before anything is sent.
/// </summary>
public static class UsageFileRows
{
    /// <summary>The most hosts one row may count (the server's bound).</summary>
    public const uint MaxHosts = 10_000_000;

    private static readonly string HostRange = string.Create(CultureInfo.InvariantCulture, $"0-{MaxHosts:N0}");

    /// <param name="port">The port as written; null when the file has none.</param>
    public static UsageFileEntry Build(ulong line, string? day, string? port, string? transport, string? process, string? executable, string? hosts, string? reachable)
    {
        UsageFileEntry Refused(string field, string reason) => new(line, null, new UsageFileError(line, field, reason));

        day = day?.Trim() ?? "";
        if (!DateOnly.TryParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            return Refused("day", day.Length == 0 ? "is required (YYYY-MM-DD)" : $"not a day (YYYY-MM-DD): \"{Short(day)}\"");
        }

        var (portNumber, badPort) = Count(port, 65535, "0-65535");
        if (badPort is not null) return Refused("port", badPort);
        if (!TransportProtocols.TryParse(transport, out var protocol) || protocol == TransportProtocol.Unspecified)
        {
            return Refused("transport", string.IsNullOrWhiteSpace(transport) ? "is required (tcp, udp, sctp or dccp)" : $"unknown transport \"{Short(transport.Trim())}\" (use tcp, udp, sctp or dccp)");
        }

        process = process?.Trim() ?? "";
        if (WireText.Check(process, 256, required: true) is { } badProcess) return Refused("process", badProcess);
        executable = executable?.Trim() ?? "";
        if (WireText.Check(executable, 4096) is { } badExecutable) return Refused("executable", badExecutable);
        var (hostCount, badHosts) = Count(hosts, MaxHosts, HostRange);
        if (badHosts is not null) return Refused("hosts", badHosts);
        var (reachableCount, badReachable) = string.IsNullOrWhiteSpace(reachable) ? (0u, null) : Count(reachable, MaxHosts, HostRange);
        if (badReachable is not null) return Refused("reachable", badReachable);
        if (reachableCount > hostCount) return Refused("reachable", $"{reachableCount} is more than hosts ({hostCount})");

        return new UsageFileEntry(line, new UsageRow
        {
            Line = line, Day = day, Port = portNumber, Transport = protocol.ToProto(), ProcessName = process, Executable = executable,
            Hosts = hostCount, Reachable = reachableCount,
        }, null);
    }

    /// <summary>A whole number from 0 to <paramref name="max"/>, or why the text is not one.</summary>
    private static (uint Value, string? Reason) Count(string? text, uint max, string range)
    {
        text = text?.Trim() ?? "";
        if (text.Length == 0) return (0, $"is required ({range})");
        if (uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return value <= max ? (value, null) : (0, $"must be {range}, got {value}");
        }

        var negative = text.StartsWith('-') && decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
        return (0, negative ? $"must not be negative, got {Short(text)}" : $"not a whole number: \"{Short(text)}\"");
    }

    /// <summary>A value quoted in an error: cut, and made safe for a terminal.</summary>
    public static string Short(string text) => Output.ServerText.Printable(text.Length > 32 ? text[..32] + "…" : text);
}
