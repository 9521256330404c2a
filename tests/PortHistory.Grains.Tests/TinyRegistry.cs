using System.Text;
using PortHistory.Grains.Abstractions;
using PortHistory.Registry.Formats;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;
using PortHistory.Registry.Protobuf;
using PortHistory.Server.Application.Import;

namespace PortHistory.Grains.Tests;

/// <summary>
/// Two tiny IANA CSV editions, a year apart, parsed the way real ones are. Between them 771/tcp changes its
/// description and 777/tcp is assigned; everything else says the same in both.
/// </summary>
internal static class TinyRegistry
{
    public const string Header = "Service Name,Port Number,Transport Protocol,Description,Assignee,Contact,Registration Date,"
                                 + "Modification Date,Reference,Service Code,Unauthorized Use Reported,Assignment Notes";

    public static readonly DateOnly FirstDate = new(2020, 1, 1);
    public static readonly DateOnly SecondDate = new(2021, 1, 1);
    public static readonly string FirstId = $"iana-csv-{FirstDate:yyyy-MM-dd}";
    public static readonly string SecondId = $"iana-csv-{SecondDate:yyyy-MM-dd}";

    public static readonly string[] FirstRows =
    [
        "discard,9,sctp,Discard,,,,,,,,",
        "cadlock,770,tcp,,,,,,,,,",
        "rtip,771,tcp,Real Time IP,,,,,,,,",
        "wpages,776,tcp,,,,,,,,,",
        "wpages,776,udp,,,,,,,,,",
        ",1000-1009,tcp,Unassigned,,,,,,,,",
        ",1000-1009,sctp,Unassigned,,,,,,,,",
    ];

    public static readonly string[] SecondRows =
    [
        .. FirstRows.Select(r => r.StartsWith("rtip,", StringComparison.Ordinal) ? "rtip,771,tcp,Real-time IP,,,,,,,," : r),
        "multiling-http,777,tcp,Multiling HTTP,,,,,,,,",
    ];

    private static readonly Lazy<(RegistryHistory History, RegistryProjection Projection)> Built = new(() =>
    {
        var history = RegistryHistory.Build([Edition(FirstDate, FirstRows), Edition(SecondDate, SecondRows)]);
        return (history, RegistryProjection.Build(history));
    });

    private static readonly Lazy<RegistryProjection> FirstOnly = new(() => RegistryProjection.Build(RegistryHistory.Build([Edition(FirstDate, FirstRows)])));

    public static RegistryHistory History => Built.Value.History;

    /// <summary>What a generation that had imported only the first edition wrote.</summary>
    public static RegistryProjection FirstOnlyProjection => FirstOnly.Value;

    public static RegistryProjection Projection => Built.Value.Projection;

    public static RegistryEdition Edition(DateOnly date, IEnumerable<string> rows) =>
        EditionReader.Read(new EditionContent(Encoding.UTF8.GetBytes(string.Join("\r\n", rows.Prepend(Header))), "tiny.csv"),
            new EditionReadOptions { EffectiveDate = date });

    /// <summary>The catalog a silo would hold once the tiny history is committed, optionally with newer editions after it.</summary>
    public static CatalogSnapshot Catalog(long generation = 1, params EditionIdentity[] later) =>
        new(generation, [.. History.EditionRefs.Concat(later).Select(e => e.ToProto())]);

    /// <summary>A port's grain state bytes, parsed.</summary>
    public static StoredPortRegistry Stored(int port) => StoredPortRegistry.Parser.ParseFrom(Projection.PortTimelines[port]);
}
