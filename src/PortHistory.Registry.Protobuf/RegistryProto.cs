using Google.Protobuf.WellKnownTypes;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;
using V1 = PortHistory.Contracts.V1;

namespace PortHistory.Registry.Protobuf;

/// <summary>
/// Registry domain types to contract messages (the server answering) and back (the CLI rendering a server's answer
/// exactly as it renders an offline one). Enum values map by number: the proto enums mirror the domain enums.
/// </summary>
public static class RegistryProto
{
    public static V1.Transport ToProto(this Transport transport) => (V1.Transport)(int)transport;

    public static Transport ToDomain(this V1.Transport transport) => (Transport)(int)transport;

    /// <summary><see cref="Transports.All"/> as contract values, in the same order.</summary>
    public static readonly IReadOnlyList<V1.Transport> AllTransports = [.. Transports.All.Select(t => t.ToProto())];

    public static V1.AssignmentStatus ToProto(this AssignmentStatus status) => (V1.AssignmentStatus)(int)status;

    public static AssignmentStatus ToDomain(this V1.AssignmentStatus status) => (AssignmentStatus)(int)status;

    public static V1.EditionFormat ToProto(this EditionFormat format) => (V1.EditionFormat)(int)format;

    public static EditionFormat ToDomain(this V1.EditionFormat format) => (EditionFormat)(int)format;

    public static V1.DateSource ToProto(this EditionDateSource source) => (V1.DateSource)(int)source;

    public static EditionDateSource ToDomain(this V1.DateSource source) => (EditionDateSource)(int)source;

    public static V1.PortClass ToProto(this PortClass portClass) => (V1.PortClass)(int)portClass;

    public static PortClass ToDomain(this V1.PortClass portClass) => (PortClass)(int)portClass;

    public static V1.ChangeKind ToProto(this ChangeKind kind) => (V1.ChangeKind)(int)kind;

    public static ChangeKind ToDomain(this V1.ChangeKind kind) => (ChangeKind)(int)kind;

    public static V1.DiffKind ToProto(this DiffKind kind) => (V1.DiffKind)(int)kind;

    public static DiffKind ToDomain(this V1.DiffKind kind) => (DiffKind)(int)kind;

    public static Google.Type.Date ToProto(this DateOnly date) => new() { Year = date.Year, Month = date.Month, Day = date.Day };

    public static DateOnly ToDomain(this Google.Type.Date date) => new(date.Year, date.Month, date.Day);

    public static V1.PortRange ToProto(this PortRange range) => new() { First = (uint)range.First, Last = (uint)range.Last };

    public static PortRange ToDomain(this V1.PortRange range) => new((int)range.First, (int)range.Last);

    public static V1.Person ToProto(this Person person) => new()
    {
        Id = person.Id ?? "",
        Name = person.Name ?? "",
        Email = person.Email ?? "",
        Organization = person.Organization ?? "",
    };

    public static Person ToDomain(this V1.Person person) =>
        new(Null(person.Id), Null(person.Name), Null(person.Email), Null(person.Organization));

    public static V1.RegistryRecord ToProto(this RegistryRecord record)
    {
        var message = new V1.RegistryRecord
        {
            ServiceName = record.ServiceName ?? "",
            Ports = record.Ports?.ToProto(),
            Transport = record.Transport.ToProto(),
            Status = record.Status.ToProto(),
            Description = record.Description,
            Registered = record.Registered ?? "",
            Modified = record.Modified ?? "",
            Deassignment = record.Deassignment is { } d ? new V1.Deassignment { On = d.On ?? "", PreviousService = d.PreviousService ?? "" } : null,
            Replaces = record.Replaces ?? "",
            AliasOf = record.AliasOf ?? "",
            ServiceCode = record.ServiceCode ?? "",
            Section = record.Section ?? "",
            Line = (uint)record.Line,
        };
        if (record.OpenFrequency is { } frequency) message.OpenFrequency = frequency;
        message.Aliases.AddRange(record.Aliases);
        message.Assignees.AddRange(record.Assignees.Select(ToProto));
        message.Contacts.AddRange(record.Contacts.Select(ToProto));
        message.References.AddRange(record.References);
        message.Notes.AddRange(record.Notes);
        message.UnauthorizedUses.AddRange(record.UnauthorizedUses);
        return message;
    }

    public static RegistryRecord ToDomain(this V1.RegistryRecord record) => new()
    {
        ServiceName = Null(record.ServiceName),
        Aliases = [.. record.Aliases],
        Ports = record.Ports?.ToDomain(),
        Transport = record.Transport.ToDomain(),
        Status = record.Status.ToDomain(),
        Description = record.Description,
        Assignees = [.. record.Assignees.Select(ToDomain)],
        Contacts = [.. record.Contacts.Select(ToDomain)],
        References = [.. record.References],
        Registered = Null(record.Registered),
        Modified = Null(record.Modified),
        Notes = [.. record.Notes],
        UnauthorizedUses = [.. record.UnauthorizedUses],
        Deassignment = record.Deassignment is { } d ? new Deassignment(Null(d.On), Null(d.PreviousService)) : null,
        Replaces = Null(record.Replaces),
        AliasOf = Null(record.AliasOf),
        ServiceCode = Null(record.ServiceCode),
        OpenFrequency = record.HasOpenFrequency ? record.OpenFrequency : null,
        Section = Null(record.Section),
        Line = (int)record.Line,
    };

    public static V1.EditionRef ToProto(this EditionRef edition) => new()
    {
        Id = edition.Id,
        EffectiveDate = edition.Date.ToProto(),
        Format = edition.Format.ToProto(),
        Title = edition.Title,
    };

    public static EditionRef ToDomain(this V1.EditionRef edition) =>
        new(edition.Id, edition.EffectiveDate.ToDomain(), edition.Format.ToDomain(), edition.Title);

    public static V1.Change ToProto(this Change change)
    {
        var message = new V1.Change { Kind = change.Kind.ToProto(), Field = change.Field ?? "" };
        if (change.Before is not null) message.Before = change.Before;
        if (change.After is not null) message.After = change.After;
        return message;
    }

    public static Change ToDomain(this V1.Change change) =>
        new(change.Kind.ToDomain(), Null(change.Field), change.HasBefore ? change.Before : null, change.HasAfter ? change.After : null);

    public static V1.TimelineVersion ToProto(this TimelineVersion version)
    {
        var message = new V1.TimelineVersion { From = version.From.ToProto(), Through = version.Through.ToProto(), EditionCount = (uint)version.EditionCount };
        message.Records.AddRange(version.Records.Select(ToProto));
        message.Changes.AddRange(version.Changes.Select(ToProto));
        return message;
    }

    public static TimelineVersion ToDomain(this V1.TimelineVersion version) =>
        new(version.From.ToDomain(), version.Through.ToDomain(), (int)version.EditionCount,
            [.. version.Records.Select(ToDomain)], [.. version.Changes.Select(ToDomain)]);

    public static V1.PortTimeline ToProto(this PortTimeline timeline)
    {
        var message = new V1.PortTimeline { Port = (uint)timeline.Port, Transport = timeline.Transport.ToProto() };
        message.Versions.AddRange(timeline.Versions.Select(ToProto));
        return message;
    }

    public static PortTimeline ToDomain(this V1.PortTimeline timeline) =>
        new((int)timeline.Port, timeline.Transport.ToDomain(), [.. timeline.Versions.Select(ToDomain)]);

    public static V1.EditionSummary ToProto(this EditionSummary edition, DateTimeOffset? importedAt = null) => new()
    {
        Id = edition.Id,
        Format = edition.Format.ToProto(),
        Title = edition.Title,
        EffectiveDate = edition.EffectiveDate.ToProto(),
        DateSource = edition.DateSource.ToProto(),
        Source = edition.Source,
        Sha256 = edition.Sha256,
        Bytes = (ulong)edition.Bytes,
        Records = (uint)edition.Records,
        Warnings = (uint)edition.Warnings,
        ImportedAt = importedAt is { } at ? Timestamp.FromDateTimeOffset(at) : null,
    };

    public static EditionSummary ToDomain(this V1.EditionSummary edition) => new(edition.Id, edition.Format.ToDomain(), edition.Title,
        edition.EffectiveDate.ToDomain(), edition.DateSource.ToDomain(), edition.Source, edition.Sha256, (long)edition.Bytes,
        (int)edition.Records, (int)edition.Warnings);

    public static V1.ServiceHolding ToProto(this ServiceHolding holding) => new()
    {
        Name = holding.Name,
        Ports = holding.Ports?.ToProto(),
        Transport = holding.Transport.ToProto(),
        Status = holding.Status.ToProto(),
        AsAlias = holding.AsAlias,
        From = holding.From.ToProto(),
        Through = holding.Through.ToProto(),
    };

    public static ServiceHolding ToDomain(this V1.ServiceHolding holding) => new(holding.Name, holding.Ports?.ToDomain(),
        holding.Transport.ToDomain(), holding.Status.ToDomain(), holding.AsAlias, holding.From.ToDomain(), holding.Through.ToDomain());

    public static V1.RenameLink ToProto(this RenameLink link) => new()
    {
        From = link.From,
        To = link.To,
        Ports = link.Ports.ToProto(),
        Transport = link.Transport.ToProto(),
        Edition = link.Edition.ToProto(),
    };

    public static RenameLink ToDomain(this V1.RenameLink link) =>
        new(link.From, link.To, link.Ports.ToDomain(), link.Transport.ToDomain(), link.Edition.ToDomain());

    public static V1.DiffEntry ToProto(this DiffEntry entry)
    {
        var message = new V1.DiffEntry { Transport = entry.Transport.ToProto(), Ports = entry.Ports?.ToProto(), Kind = entry.Kind.ToProto() };
        message.Before.AddRange(entry.Before.Select(ToProto));
        message.After.AddRange(entry.After.Select(ToProto));
        message.Changes.AddRange(entry.Changes.Select(ToProto));
        return message;
    }

    public static DiffEntry ToDomain(this V1.DiffEntry entry) => new(entry.Transport.ToDomain(), entry.Ports?.ToDomain(), entry.Kind.ToDomain(),
        [.. entry.Before.Select(ToDomain)], [.. entry.After.Select(ToDomain)], [.. entry.Changes.Select(ToDomain)]);

    public static V1.ParseWarning ToProto(this ParseWarning warning) =>
        new() { Line = (uint)Math.Max(0, warning.Line), Reason = warning.Reason, Text = warning.Text ?? "" };

    public static V1.LocalServiceEntry ToProto(this LocalEntry entry)
    {
        var message = new V1.LocalServiceEntry
        {
            Edition = entry.Edition.ToProto(),
            Source = entry.Source,
            Port = (uint)entry.Port,
            Transport = entry.Transport.ToProto(),
            ServiceName = entry.ServiceName,
            Comment = entry.Comment ?? "",
        };
        if (entry.OpenFrequency is { } frequency) message.OpenFrequency = frequency;
        message.Aliases.AddRange(entry.Aliases);
        return message;
    }

    public static LocalEntry ToDomain(this V1.LocalServiceEntry entry) =>
        new(entry.Edition.ToDomain(), entry.Source, (int)entry.Port, entry.Transport.ToDomain(), entry.ServiceName,
            entry.HasOpenFrequency ? entry.OpenFrequency : null, [.. entry.Aliases], Null(entry.Comment));

    private static string? Null(string text) => text.Length == 0 ? null : text;
}
