using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using PortHistory.Contracts.V1;
using PortHistory.Registry.Model;
using PortHistory.Registry.Protobuf;
using PortHistory.Contracts;

namespace PortHistory.Server.Apis;

/// <summary>Request validation: every bad field is an InvalidArgument whose message starts with the field's name.</summary>
public static class Requests
{
    /// <summary>
    /// The field and the reason are also given as a google.rpc.BadRequest in the status details (the
    /// grpc-status-details-bin trailer), which HTTP/JSON callers receive as the error's "details".
    /// </summary>
    public static RpcException Invalid(string field, string reason)
    {
        var message = $"{field}: {reason}";
        var details = new Google.Rpc.Status { Code = (int)StatusCode.InvalidArgument, Message = message };
        details.Details.Add(Any.Pack(new BadRequest { FieldViolations = { new BadRequest.Types.FieldViolation { Field = field, Description = reason } } }));
        return new RpcException(new Status(StatusCode.InvalidArgument, message), new Metadata { { StatusDetailsTrailer, details.ToByteArray() } });
    }

    public const string StatusDetailsTrailer = "grpc-status-details-bin";

    public static int Port(bool present, uint port, string field = "port")
    {
        if (!present) throw Invalid(field, "is required (0-65535)");
        if (port > PortSpan.MaxPort) throw Invalid(field, $"must be 0-65535, got {port}");
        return (int)port;
    }

    public static Transport Transport(Transport transport, string field = "transport") =>
        Enum.IsDefined(transport) ? transport : throw Invalid(field, $"unknown transport {(int)transport} (use tcp, udp, sctp or dccp)");

    public static AssignmentStatus Status(AssignmentStatus status, string field = "status") =>
        Enum.IsDefined(status) ? status : throw Invalid(field, $"unknown status {(int)status}");

    public static EditionFormat Format(EditionFormat format, string field = "format") =>
        Enum.IsDefined(format) ? format : throw Invalid(field, $"unknown edition format {(int)format}");

    public static DateOnly? Date(Google.Type.Date? date, string field)
    {
        if (date is null) return null;
        if (date.Year is < 1 or > 9999 || date.Month is < 1 or > 12 || date.Day < 1 || date.Day > DateTime.DaysInMonth(date.Year, date.Month))
        {
            throw Invalid(field, $"not a valid date: {date.Year:D4}-{date.Month:D2}-{date.Day:D2}");
        }

        return date.ToDomain();
    }

    public static PortSpan? Range(PortRange? range, string field)
    {
        if (range is null) return null;
        if (range.First > PortSpan.MaxPort || range.Last > PortSpan.MaxPort) throw Invalid(field, $"ports must be 0-65535, got {range.First}-{range.Last}");
        if (range.Last < range.First) throw Invalid(field, $"last ({range.Last}) is below first ({range.First})");
        return range.ToDomain();
    }

    /// <summary>A name (process, unit, group): <see cref="WireText.CheckName"/>; empty allowed unless <paramref name="required"/>.</summary>
    public static string Name(string value, string field, int maxLength, bool required)
    {
        var trimmed = value.Trim();
        if (required && trimmed.Length == 0) throw Invalid(field, "is required");
        if (WireText.CheckName(trimmed, maxLength) is { } reason) throw Invalid(field, reason);
        return trimmed;
    }

    public static string Text(string value, string field, int maxLength)
    {
        var trimmed = value.Trim();
        if (WireText.Check(trimmed, maxLength, required: true) is { } reason) throw Invalid(field, reason);
        return trimmed;
    }
}
