// Over 250 lines and one job: every registry type to its contract message and back, side by side so the two directions cannot drift.
using Google.Protobuf.WellKnownTypes;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;
using PortHistory.Contracts.V1;

namespace PortHistory.Registry.Protobuf;

/// <summary>
/// Registry domain types to contract messages (the server answering) and back (the CLI rendering a server's answer
/// exactly as it renders an offline one). Enum values map by number: the proto enums mirror the domain enums.
/// </summary>
public static class RegistryProto
{
    public static Transport ToProto(this TransportProtocol transport) => (Transport)(int)transport;

    public static TransportProtocol ToDomain(this Transport transport) => (TransportProtocol)(int)transport;

    /// <summary><see cref="TransportProtocols.All"/> as contract values, in the same order.</summary>
    public static readonly IReadOnlyList<Transport> AllTransports = [.. TransportProtocols.All.Select(t => t.ToProto())];

    public static AssignmentStatus ToProto(this RecordStatus status) => (AssignmentStatus)(int)status;

    public static RecordStatus ToDomain(this AssignmentStatus status) => (RecordStatus)(int)status;

    public static EditionFormat ToProto(this EditionFileFormat format) => (EditionFormat)(int)format;

    public static EditionFileFormat ToDomain(this EditionFormat format) => (EditionFileFormat)(int)format;

    public static DateSource ToProto(this EditionDateSource source) => (DateSource)(int)source;

    public static EditionDateSource ToDomain(this DateSource source) => (EditionDateSource)(int)source;

    public static PortClass ToProto(this PortNumberClass portClass) => (PortClass)(int)portClass;

    public static PortNumberClass ToDomain(this PortClass portClass) => (PortNumberClass)(int)portClass;

    public static ChangeKind ToProto(this RecordChangeKind kind) => (ChangeKind)(int)kind;

    public static RecordChangeKind ToDomain(this ChangeKind kind) => (RecordChangeKind)(int)kind;

    public static DiffKind ToProto(this EditionDiffKind kind) => (DiffKind)(int)kind;

    public static EditionDiffKind ToDomain(this DiffKind kind) => (EditionDiffKind)(int)kind;

    public static Google.Type.Date ToProto(this DateOnly date) => new() { Year = date.Year, Month = date.Month, Day = date.Day };

    public static DateOnly ToDomain(this Google.Type.Date date) => new(date.Year, date.Month, date.Day);

    public static PortRange ToProto(this PortSpan range) => new() { First = (uint)range.First, Last = (uint)range.Last };

    public static PortSpan ToDomain(this PortRange range) => new((int)range.First, (int)range.Last);

    public static Person ToProto(this RegistryPerson person) => new()
    {
        Id = person.Id ?? "",
        Name = person.Name ?? "",
        Email = person.Email ?? "",
        Organization = person.Organization ?? "",
    };

    public static RegistryPerson ToDomain(this Person person) =>
        new(Null(person.Id), Null(person.Name), Null(person.Email), Null(person.Organization));

    public static RegistryRecord ToProto(this EditionRecord record)
    {
        var message = new RegistryRecord
        {
            ServiceName = record.ServiceName ?? "",
            Ports = record.Ports?.ToProto(),
            Transport = record.Transport.ToProto(),
            Status = record.Status.ToProto(),
            Description = record.Description,
            Registered = record.Registered ?? "",
            Modified = record.Modified ?? "",
            Deassignment = record.Deassignment is { } d ? new Deassignment { On = d.On ?? "", PreviousService = d.PreviousService ?? "" } : null,
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

    public static EditionRecord ToDomain(this RegistryRecord record) => new()
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
        Deassignment = record.Deassignment is { } d ? new DeassignmentNote(Null(d.On), Null(d.PreviousService)) : null,
        Replaces = Null(record.Replaces),
        AliasOf = Null(record.AliasOf),
        ServiceCode = Null(record.ServiceCode),
        OpenFrequency = record.HasOpenFrequency ? record.OpenFrequency : null,
        Section = Null(record.Section),
        Line = (int)record.Line,
    };

    public static EditionRef ToProto(this EditionIdentity edition) => new()
    {
        Id = edition.Id,
        EffectiveDate = edition.Date.ToProto(),
        Format = edition.Format.ToProto(),
        Title = edition.Title,
    };

    public static EditionIdentity ToDomain(this EditionRef edition) =>
        new(edition.Id, edition.EffectiveDate.ToDomain(), edition.Format.ToDomain(), edition.Title);

    public static Change ToProto(this RecordChange change)
    {
        var message = new Change { Kind = change.Kind.ToProto(), Field = change.Field ?? "" };
        if (change.Before is not null) message.Before = change.Before;
        if (change.After is not null) message.After = change.After;
        return message;
    }

    public static RecordChange ToDomain(this Change change) =>
        new(change.Kind.ToDomain(), Null(change.Field), change.HasBefore ? change.Before : null, change.HasAfter ? change.After : null);

    public static TimelineVersion ToProto(this RecordVersion version)
    {
        var message = new TimelineVersion
        {
            From = version.From.ToProto(),
            Through = version.Through.ToProto(),
            EditionCount = (uint)version.EditionCount,
            HeldSince = version.HeldSince.ToProto(),
            ConventionalSince = version.ConventionalSince?.ToProto(),
        };
        message.Records.AddRange(version.Records.Select(ToProto));
        message.Changes.AddRange(version.Changes.Select(ToProto));
        return message;
    }

    public static RecordVersion ToDomain(this TimelineVersion version)
    {
        var from = version.From.ToDomain();
        return new RecordVersion(from, version.Through.ToDomain(), (int)version.EditionCount, [.. version.Records.Select(ToDomain)],
            [.. version.Changes.Select(ToDomain)])
        {
            // Timelines stored before the holding was kept say nothing of it: the version's own start is all there is.
            HeldSince = version.HeldSince?.ToDomain() ?? from,
            ConventionalSince = version.ConventionalSince?.ToDomain(),
        };
    }

    public static PortTimeline ToProto(this AssignmentTimeline timeline)
    {
        var message = new PortTimeline { Port = (uint)timeline.Port, Transport = timeline.Transport.ToProto() };
        message.Versions.AddRange(timeline.Versions.Select(ToProto));
        return message;
    }

    public static AssignmentTimeline ToDomain(this PortTimeline timeline) =>
        new((int)timeline.Port, timeline.Transport.ToDomain(), [.. timeline.Versions.Select(ToDomain)]);

    public static EditionSummary ToProto(this EditionOverview edition, DateTimeOffset? importedAt = null) => new()
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

    public static EditionOverview ToDomain(this EditionSummary edition) => new(edition.Id, edition.Format.ToDomain(), edition.Title,
        edition.EffectiveDate.ToDomain(), edition.DateSource.ToDomain(), edition.Source, edition.Sha256, (long)edition.Bytes,
        (int)edition.Records, (int)edition.Warnings);

    public static ServiceHolding ToProto(this ServiceTenure holding) => new()
    {
        Name = holding.Name,
        Ports = holding.Ports?.ToProto(),
        Transport = holding.Transport.ToProto(),
        Status = holding.Status.ToProto(),
        AsAlias = holding.AsAlias,
        From = holding.From.ToProto(),
        Through = holding.Through.ToProto(),
    };

    public static ServiceTenure ToDomain(this ServiceHolding holding) => new(holding.Name, holding.Ports?.ToDomain(),
        holding.Transport.ToDomain(), holding.Status.ToDomain(), holding.AsAlias, holding.From.ToDomain(), holding.Through.ToDomain());

    public static RenameLink ToProto(this ServiceRename link) => new()
    {
        From = link.From,
        To = link.To,
        Ports = link.Ports.ToProto(),
        Transport = link.Transport.ToProto(),
        Edition = link.Edition.ToProto(),
    };

    public static ServiceRename ToDomain(this RenameLink link) =>
        new(link.From, link.To, link.Ports.ToDomain(), link.Transport.ToDomain(), link.Edition.ToDomain());

    public static DiffEntry ToProto(this EditionDiffEntry entry)
    {
        var message = new DiffEntry { Transport = entry.Transport.ToProto(), Ports = entry.Ports?.ToProto(), Kind = entry.Kind.ToProto() };
        message.Before.AddRange(entry.Before.Select(ToProto));
        message.After.AddRange(entry.After.Select(ToProto));
        message.Changes.AddRange(entry.Changes.Select(ToProto));
        return message;
    }

    public static EditionDiffEntry ToDomain(this DiffEntry entry) => new(entry.Transport.ToDomain(), entry.Ports?.ToDomain(), entry.Kind.ToDomain(),
        [.. entry.Before.Select(ToDomain)], [.. entry.After.Select(ToDomain)], [.. entry.Changes.Select(ToDomain)]);

    public static ParseWarning ToProto(this EditionParseWarning warning) =>
        new() { Line = (uint)Math.Max(0, warning.Line), Reason = warning.Reason, Text = warning.Text ?? "" };

    public static LocalServiceEntry ToProto(this LocalEntry entry)
    {
        var message = new LocalServiceEntry
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

    public static LocalEntry ToDomain(this LocalServiceEntry entry) =>
        new(entry.Edition.ToDomain(), entry.Source, (int)entry.Port, entry.Transport.ToDomain(), entry.ServiceName,
            entry.HasOpenFrequency ? entry.OpenFrequency : null, [.. entry.Aliases], Null(entry.Comment));

    private static string? Null(string text) => text.Length == 0 ? null : text;
}
