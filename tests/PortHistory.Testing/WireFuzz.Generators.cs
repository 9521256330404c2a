// Over 250 lines: static fields initialise in textual order within a file but in no defined order across the files of
// a partial class, and these generators build on one another; so they stay in one file.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using CsCheck;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using PortHistory.Contracts.V1;

namespace PortHistory.Testing;

/// <summary>Every static field of the fuzzer: the generators of what it sends, and the RPCs it calls.</summary>
public sealed partial class WireFuzz
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ImportTimeout = TimeSpan.FromSeconds(120);

    // Declared first: the raw methods below are built from it while the static fields are initialized, in order.
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create<byte[]>(b => b, b => b);

    // ---- Generators: scalars ----

    private static readonly Gen<byte> AnyByte = Gen.Byte;
    private static readonly Gen<int> AnyInt = Gen.Int;
    private static readonly Gen<uint> AnyUInt = Gen.UInt;
    private static readonly Gen<long> AnyLong = Gen.Long;
    private static readonly Gen<ulong> AnyULong = Gen.ULong;
    private static readonly Gen<bool> AnyBool = Gen.Bool;
    private static readonly Gen<Guid> AnyGuid = Gen.Guid;

    private static readonly Gen<char> PlainCharGen = Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789-_."];

    /// <summary>No surrogates: repeated and cut anywhere, these never leave half a pair.</summary>
    private static readonly Gen<char> OddCharGen = Gen.Frequency<char>([
        (8, Gen.Char[' ', '~']),
        // Control characters, NUL included; then DEL and the C1 controls.
        (3, Gen.Char['\u0000', '\u001f']),
        (1, Gen.Char['\u007f', '\u009f']),
        (4, Gen.Char['\u00a0', '\ud7ff']),
        // Bidirectional controls: marks, embeddings, overrides (U+202E), isolates.
        (2, Gen.Char["\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"]),
        (1, Gen.Char["\u00ad\u200b\u2028\u2029\ufeff\ufffd\ufffe\uffff"]),
    ]);

    private static readonly string[] HostileTexts =
    [
        " ", "   ", "\t", "\r\n", "\0", "a\0b", "\u202e", "exe.\u202ecod", "\u2066x\u2069", "\ud83d\ude00", "%", "_", "%_%", "'", "\"", "\\",
        "' OR '1'='1", "'); DROP TABLE access_tokens; --", "../../../../etc/passwd", "/etc/shadow", "\ufeffbom", "\uffff", "NULL", "tok_", "ph_",
        "Bearer", "{}", "[]", "<a>", "&amp;", "${jndi:ldap://x}", "%s%n", "\u0085", "\u00a0",
        // Unpaired surrogates: such a message usually cannot be encoded and is then skipped.
        "\ud800", "x\udc00y",
    ];

    private static readonly Gen<string> TextGen = Gen.Frequency<string>([
        (6, Gen.String[PlainCharGen, 1, 24]),
        (4, Gen.String[OddCharGen, 0, 40]),
        (1, Gen.Const("")),
        (2, Gen.OneOf<string>(HostileTexts)),
        // Around the limits the server checks (64, 128, 200, 256, 4096 characters).
        (1, Gen.Select(Gen.Char['a', 'z'], Gen.OneOf<int>([63, 64, 65, 127, 128, 129, 199, 200, 201, 255, 256, 257, 4_095, 4_096, 4_097]),
            (c, length) => new string(c, length))),
        // Huge: up to about 100 KB, beyond the 64 KiB a unary request may have.
        (1, Gen.Select(Gen.String[OddCharGen, 1, 8], Gen.Int[1_000, 100_000], (unit, length) => Repeat(unit, length))),
    ]);

    // ---- Generators: ports, enums, time ----

    private static readonly uint[] WellKnownPorts =
        [0, 1, 7, 21, 22, 23, 25, 53, 80, 110, 123, 143, 443, 1_023, 1_024, 3_306, 5_432, 8_080, 49_151, 49_152, 65_534, 65_535];

    /// <summary>Mostly a small set of ports, so that ports see repeated traffic and few grains are activated.</summary>
    private static readonly Gen<uint> ValidPortGen = Gen.Frequency<uint>([
        (10, Gen.OneOf<uint>(WellKnownPorts)),
        (6, Gen.UInt[40_000, 40_127]),
        (3, Gen.UInt[0, 65_535]),
    ]);

    private static readonly Gen<uint> PortGen = Gen.Frequency<uint>([
        (19, ValidPortGen),
        (1, Gen.OneOf<uint>([65_536, 65_537, 70_000, 100_000, (uint)int.MaxValue, uint.MaxValue])),
        (1, Gen.UInt[65_536, 70_000]),
    ]);

    private static readonly Gen<uint?> OptionalPortGen = Gen.Frequency<uint?>([
        (12, Gen.Select(PortGen, port => (uint?)port)),
        (1, Gen.Const<uint?>((uint?)null)),
    ]);

    /// <summary>Defined values mostly; otherwise numbers the contract does not define (protobuf keeps them).</summary>
    private static Gen<TEnum> EnumGen<TEnum>() where TEnum : struct, Enum => Gen.Frequency<TEnum>([
        (8, Gen.OneOf<TEnum>(Enum.GetValues<TEnum>())),
        (2, Gen.Select(Gen.OneOf<int>([-1, 5, 7, 99, int.MaxValue, int.MinValue]), number => Unknown<TEnum>(number))),
        (1, Gen.Select(AnyInt, number => Unknown<TEnum>(number))),
    ]);

    private static readonly Gen<Transport> TransportGen = EnumGen<Transport>();
    private static readonly Gen<AddressFamily> AddressFamilyGen = EnumGen<AddressFamily>();
    private static readonly Gen<BindScope> BindScopeGen = EnumGen<BindScope>();
    private static readonly Gen<SocketState> SocketStateGen = EnumGen<SocketState>();
    private static readonly Gen<AssignmentStatus> AssignmentStatusGen = EnumGen<AssignmentStatus>();
    private static readonly Gen<VerdictKind> VerdictKindGen = EnumGen<VerdictKind>();
    private static readonly Gen<Role> RoleGen = EnumGen<Role>();
    private static readonly Gen<EditionFormat> EditionFormatGen = EnumGen<EditionFormat>();

    private static long NowSeconds() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>Within the last hour: inside the accepted window (30 days back, 5 minutes ahead).</summary>
    private static readonly Gen<Timestamp> RecentTimestampGen = Gen.Select(Gen.Int[-3_600, 0], Gen.Int[0, 999_999_999],
        (age, nanos) => new Timestamp { Seconds = NowSeconds() + age, Nanos = nanos });

    private static readonly Gen<Timestamp?> OddTimestampGen = Gen.Frequency<Timestamp?>([
        (2, Gen.Const<Timestamp?>((Timestamp?)null)),
        // Nanos out of range.
        (2, Gen.Select(Gen.Int[-3_600, 0], Gen.OneOf<int>([-1, 1_000_000_000, int.MinValue, int.MaxValue]),
            (age, nanos) => (Timestamp?)new Timestamp { Seconds = NowSeconds() + age, Nanos = nanos })),
        // Seconds at and beyond 0001-01-01 and 9999-12-31.
        (2, Gen.Select(Gen.OneOf<long>([long.MinValue, long.MaxValue, -62_135_596_801, -62_135_596_800, 0, 253_402_300_799, 253_402_300_800]),
            Gen.Int[0, 999_999_999], (seconds, nanos) => (Timestamp?)new Timestamp { Seconds = seconds, Nanos = nanos })),
        (1, Gen.Select(AnyLong, AnyInt, (seconds, nanos) => (Timestamp?)new Timestamp { Seconds = seconds, Nanos = nanos })),
        // In the future, or older than the accepted window.
        (2, Gen.Select(Gen.Int[301, 400 * 86_400], ahead => (Timestamp?)new Timestamp { Seconds = NowSeconds() + ahead })),
        (2, Gen.Select(Gen.Int[30 * 86_400 + 60, 20_000 * 86_400], age => (Timestamp?)new Timestamp { Seconds = NowSeconds() - age })),
    ]);

    /// <summary>Month 13, day 0, year 0, 30 February and the like; none later than 2025 when valid.</summary>
    private static readonly Gen<Date?> OddDateGen = Gen.Select(Gen.OneOf<(int Year, int Month, int Day)>([
        (2026, 13, 1), (2026, 0, 1), (2026, 1, 0), (0, 1, 1), (0, 0, 0), (2026, 2, 30), (2025, 2, 29), (2024, 2, 29), (2026, 4, 31), (10_000, 1, 1),
        (1, 1, 1), (-1, -1, -1), (int.MaxValue, int.MaxValue, int.MaxValue), (int.MinValue, 1, 1), (1970, 1, 32), (2025, -12, 1),
    ]), d => (Date?)new Date { Year = d.Year, Month = d.Month, Day = d.Day });

    private static readonly Gen<Date?> DateGen = Gen.Frequency<Date?>([
        (4, Gen.Const<Date?>((Date?)null)),
        (4, Gen.Select(Gen.Int[1_970, 2_030], Gen.Int[1, 12], Gen.Int[1, 28], (year, month, day) => (Date?)new Date { Year = year, Month = month, Day = day })),
        (2, OddDateGen),
        (1, Gen.Select(Gen.Int[2_026, 9_999], year => (Date?)new Date { Year = year, Month = 12, Day = 31 })),
        (1, Gen.Select(AnyInt, AnyInt, AnyInt, (year, month, day) => (Date?)new Date { Year = year, Month = month, Day = day })),
    ]);

    /// <summary>
    /// Effective dates for imports: valid ones no later than 2025, so that an import that happens to succeed never
    /// becomes the newest edition (which would restage every port and take the run's time).
    /// </summary>
    private static readonly Gen<Date?> ImportDateGen = Gen.Frequency<Date?>([
        (3, Gen.Const<Date?>((Date?)null)),
        (3, Gen.Select(Gen.Int[1_970, 2_025], Gen.Int[1, 12], Gen.Int[1, 28], (year, month, day) => (Date?)new Date { Year = year, Month = month, Day = day })),
        (2, OddDateGen),
    ]);

    /// <summary>At most 2,048 ports: listings stay quick.</summary>
    private static readonly Gen<PortRange> SmallRangeGen = Gen.Select(Gen.UInt[0, 65_535], Gen.UInt[0, 2_047],
        (first, span) => new PortRange { First = first, Last = Math.Min(MaxPort, first + span) });

    /// <summary>Edges, reversed, out of range; valid ones among them are 2,048 ports at most too.</summary>
    private static readonly Gen<PortRange> OddRangeGen = Gen.Frequency<PortRange>([
        (2, Gen.Select(Gen.OneOf<(uint First, uint Last)>([
            (0, 0), (65_535, 65_535), (0, 2_047), (63_488, 65_535), (65_535, 65_536), (0, 65_536), (1, 0), (65_535, 0), (70_000, 70_000),
            (uint.MaxValue, uint.MaxValue),
        ]), r => new PortRange { First = r.First, Last = r.Last })),
        (2, Gen.Select(ValidPortGen, ValidPortGen, (a, b) => new PortRange { First = Math.Max(a, b), Last = Math.Min(a, b) })),
        (1, Gen.Select(AnyUInt, AnyUInt, (first, last) => new PortRange { First = first, Last = last })),
    ]);

    /// <summary>ListPorts always gets a range (unset means all 65,536 ports).</summary>
    private static readonly Gen<PortRange> ListingRangeGen = Gen.Frequency<PortRange>([(8, SmallRangeGen), (2, OddRangeGen)]);

    private static readonly Gen<PortRange?> OptionalRangeGen = Gen.Frequency<PortRange?>([
        (2, Gen.Const<PortRange?>((PortRange?)null)),
        (6, Gen.Select(SmallRangeGen, range => (PortRange?)range)),
        (2, Gen.Select(OddRangeGen, range => (PortRange?)range)),
    ]);

    // ---- Generators: callers ----

    private static readonly Gen<Caller> MostlyAdminGen = Gen.Frequency<Caller>([(16, Caller.Admin), (2, Caller.Agent), (1, Caller.Anonymous), (1, Caller.Forged)]);

    private static readonly Gen<Caller> MostlyAgentGen = Gen.Frequency<Caller>([(8, Caller.Admin), (10, Caller.Agent), (1, Caller.Anonymous), (1, Caller.Forged)]);

    private static readonly Gen<char> TokenCharGen = Gen.Char["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"];

    private static readonly Gen<char> PrintableGen = Gen.Char['!', '~'];

    /// <summary>Printable ASCII without leading or trailing blanks: anything else the HTTP client refuses to send.</summary>
    private static readonly Gen<string> ForgedTokenGen = Gen.Frequency<string>([
        (3, Gen.Select(Gen.String[TokenCharGen, 43, 43], secret => "Bearer ph_" + secret)),
        (2, Gen.Select(Gen.String[PrintableGen, 1, 80], secret => "Bearer " + secret)),
        (1, Gen.OneOf<string>(["", "Bearer", "bearer ph_", "Basic dXNlcjpwYXNz", "ph_", "Bearer ph_" + new string('A', 43), "Bearer Bearer ph_x", "BEARER x"])),
        (1, Gen.String[PrintableGen, 1, 200]),
        (1, Gen.Select(Gen.Int[1_000, 4_000], length => "Bearer " + new string('x', length))),
    ]);

    /// <summary>A quarter of the calls send mutated bytes instead of the generated message.</summary>
    private static readonly Gen<bool> RawShare = Gen.Frequency<bool>([(3, false), (1, true)]);

    private static readonly Gen<Mutation> MutationGen = Gen.Select(Gen.Int[0, 11], AnyUInt, AnyUInt, AnyByte.Array[1, 32],
        (kind, at, span, junk) => new Mutation(kind, at, span, junk));

    private static readonly Gen<Mutation[]> MutationsGen = MutationGen.Array[1, 3];

    private static readonly Gen<Mutation[]> MaybeMutationsGen = Gen.Frequency<Mutation[]>([(1, Gen.Const(Array.Empty<Mutation>())), (2, MutationsGen)]);

    // ---- Generators: requests ----

    private static readonly Gen<GetPortRequest> GetPortRequestGen = Gen.Select(OptionalPortGen, TransportGen, DateGen, (port, transport, asOf) =>
    {
        var request = new GetPortRequest { Transport = transport, AsOf = asOf };
        if (port is { } value) request.Port = value;
        return request;
    });

    private static readonly Gen<GetTimelineRequest> GetTimelineRequestGen = Gen.Select(OptionalPortGen, TransportGen, (port, transport) =>
    {
        var request = new GetTimelineRequest { Transport = transport };
        if (port is { } value) request.Port = value;
        return request;
    });

    private static readonly Gen<GetObservedRequest> GetObservedRequestGen = Gen.Select(OptionalPortGen, TransportGen, (port, transport) =>
    {
        var request = new GetObservedRequest { Transport = transport };
        if (port is { } value) request.Port = value;
        return request;
    });

    private static readonly Gen<FindServiceRequest> FindServiceRequestGen = Gen.Select(Gen.Frequency<string>([
        (4, Gen.OneOf<string>(["ssh", "SSH", "http", "www-http", "domain", "ntp", "postgresql", "no-such-service", "s%", "ht_p", "*", " ssh "])),
        (3, TextGen),
    ]), name => new FindServiceRequest { Name = name });

    private static readonly Gen<string> EditionRefGen = Gen.Frequency<string>([
        (5, Gen.OneOf<string>([
            "iana-xml-2026-08-17", "2026-08-17", "2026-08-18", "2030-01-01", "2025-01-01", "1970-01-01", "0001-01-01", "9999-12-31", "2026-02-30",
            "2026-13-01", "rfc1340", " iana-xml-2026-08-17 ", "IANA-XML-2026-08-17", "2026-8-17", "20260817",
        ])),
        (1, Gen.Select(DateGen, date => date is null ? "" : $"{date.Year:D4}-{date.Month:D2}-{date.Day:D2}")),
        (2, TextGen),
    ]);

    private static readonly Gen<DiffEditionsRequest> DiffEditionsRequestGen = Gen.Select(EditionRefGen, EditionRefGen, OptionalRangeGen,
        (older, newer, ports) => new DiffEditionsRequest { FromEdition = older, ToEdition = newer, Ports = ports });

    private static readonly Gen<ListPortsRequest> ListPortsRequestGen = Gen.Select(ListingRangeGen, DateGen, AssignmentStatusGen, TransportGen,
        (range, asOf, status, transport) => new ListPortsRequest { Range = range, AsOf = asOf, Status = status, Transport = transport });

    private static readonly Gen<ListEditionsRequest> ListEditionsRequestGen = Gen.Select(Gen.Const(0), _ => new ListEditionsRequest());

    private static readonly Gen<ListDiscrepanciesRequest> ListDiscrepanciesRequestGen = Gen.Select(VerdictKindGen.Array[0, 4], OptionalRangeGen, TransportGen,
        (verdicts, range, transport) =>
        {
            var request = new ListDiscrepanciesRequest { Range = range, Transport = transport };
            request.Verdicts.AddRange(verdicts);
            return request;
        });

    private static readonly Gen<IssueTokenRequest> IssueTokenRequestGen = Gen.Select(Gen.Frequency<string>([
        (3, Gen.Select(Gen.String[PlainCharGen, 1, 16], name => "fuzz " + name)),
        (2, TextGen),
    ]), RoleGen, (name, role) => new IssueTokenRequest { Name = name, Role = role });

    /// <summary>Random ids ("tok_" and 12 hex digits, as issued): never those of the tokens the run itself uses.</summary>
    private static readonly Gen<RevokeTokenRequest> RevokeTokenRequestGen = Gen.Select(Gen.Frequency<string>([
        (3, Gen.Select(AnyULong, id => "tok_" + (id & 0xFFFF_FFFF_FFFFUL).ToString("x12", CultureInfo.InvariantCulture))),
        (1, Gen.OneOf<string>(["tok_none", "", "tok_", "TOK_000000000000", "tok_000000000000", new string('t', 64), new string('t', 65)])),
        (2, TextGen),
    ]), id => new RevokeTokenRequest { TokenId = id });

    private static readonly Gen<ListTokensRequest> ListTokensRequestGen = Gen.Select(Gen.Const(0), _ => new ListTokensRequest());

    /// <summary>Host refs no test host uses ("fuzz-" and plain text), and hostile text.</summary>
    private static readonly Gen<string> FuzzHostRefGen = Gen.Frequency<string>([
        (3, Gen.Select(Gen.String[PlainCharGen, 1, 16], name => "fuzz-" + name)),
        (1, Gen.OneOf<string>(["", " ", new string('h', 128), new string('h', 129)])),
        (2, TextGen),
    ]);

    private static readonly Gen<RevokeHostRequest> RevokeHostRequestGen = Gen.Select(FuzzHostRefGen, host => new RevokeHostRequest { HostRef = host });

    private static readonly Gen<ApproveHostsRequest> ApproveHostsRequestGen = Gen.Select(FuzzHostRefGen.Array[0, 4], hosts => new ApproveHostsRequest { HostRefs = { hosts } });

    private static readonly Gen<ListEnrollmentHostsRequest> ListEnrollmentHostsRequestGen = Gen.Select(Gen.Const(0), _ => new ListEnrollmentHostsRequest());

    // ---- Generators: sightings ----

    private static readonly Gen<Sighting> ValidSightingGen = Gen.Select(
        Gen.Int[0, 63],
        ValidPortGen,
        Gen.OneOf<Transport>([Transport.Tcp, Transport.Udp, Transport.Sctp, Transport.Dccp]),
        Gen.OneOf<string>(["0.0.0.0", "127.0.0.1", "::", "::1", "10.1.2.3", "192.168.0.10", "fe80::1%eth0", ""]),
        Gen.OneOf<string>(["sshd", "nginx", "postgres", "fuzzd", "systemd-resolved", "java"]),
        RecentTimestampGen,
        Gen.UInt[1, 4_194_304],
        AnyBool,
        (host, port, transport, address, process, observedAt, pid, privileged) => new Sighting
        {
            HostRef = $"fuzz-host-{host}",
            Port = port,
            Transport = transport,
            LocalAddress = address,
            // Without an address the scope cannot be derived.
            BindScope = address.Length == 0 ? BindScope.Wildcard : BindScope.Unspecified,
            ProcessName = process,
            Executable = $"/usr/sbin/{process}",
            ObservedAt = observedAt,
            Pid = pid,
            User = "root",
            AgentPrivileged = privileged,
        });

    private static readonly Gen<string> LocalAddressGen = Gen.Frequency<string>([
        (3, Gen.OneOf<string>(["0.0.0.0", "127.0.0.1", "::", "::1", "10.1.2.3", "fe80::1%eth0", ""])),
        (3, Gen.OneOf<string>([
            "not-an-address", "999.1.1.1", "1.2.3", "::ffff:1.2.3.4", "fe80::1%", "%", "%eth0", "1.2.3.4%eth0", "0x7f000001", "127.1", "::::", "[::1]",
            " 10.0.0.1 ", "10.0.0.1\0", "1.2.3.4:80", "localhost", new string('1', 65),
        ])),
        (1, TextGen),
    ]);

    private static readonly Gen<uint> PidGen = Gen.Frequency<uint>([
        (8, Gen.UInt[1, 4_194_304]),
        (1, Gen.OneOf<uint>([0, int.MaxValue, (uint)int.MaxValue + 1, uint.MaxValue])),
    ]);

    private static Gen<Action<Sighting>> Set<T>(Gen<T> values, Action<Sighting, T> set) => Gen.Select(values, value => (Action<Sighting>)(s => set(s, value)));

    /// <summary>One field of a sighting made bad (or odd but acceptable).</summary>
    private static readonly Gen<Action<Sighting>> CorruptionGen = Gen.OneOf<Action<Sighting>>([
        Set(OptionalPortGen, (s, port) =>
        {
            if (port is { } value) s.Port = value;
            else s.ClearPort();
        }),
        Set(TransportGen, (s, value) => s.Transport = value),
        Set(AddressFamilyGen, (s, value) => s.AddressFamily = value),
        Set(BindScopeGen, (s, value) => s.BindScope = value),
        Set(SocketStateGen, (s, value) => s.State = value),
        Set(TextGen, (s, value) => s.HostRef = value),
        Set(OddTimestampGen, (s, value) => s.ObservedAt = value),
        Set(LocalAddressGen, (s, value) => s.LocalAddress = value),
        Set(TextGen, (s, value) => s.ProcessName = value),
        Set(TextGen, (s, value) => s.Executable = value),
        Set(PidGen, (s, value) => s.Pid = value),
        Set(TextGen, (s, value) => s.User = value),
        Set(TextGen, (s, value) => s.ContainerId = value),
        Set(TextGen, (s, value) => s.NetworkNamespace = value),
        Set(Gen.Const(0), (s, _) =>
        {
            s.ProcessName = "";
            s.Executable = "";
        }),
    ]);

    /// <summary>Half of the sightings valid, the others with one to three fields made bad.</summary>
    private static readonly Gen<Sighting> SightingGen = Gen.Select(ValidSightingGen, Gen.Frequency<Action<Sighting>[]>([
        (1, Gen.Const(Array.Empty<Action<Sighting>>())),
        (1, CorruptionGen.Array[1, 3]),
    ]), (sighting, changes) =>
    {
        foreach (var change in changes) change(sighting);
        return sighting;
    });

    private static readonly Gen<string> BatchIdGen = Gen.Frequency<string>([
        (12, Gen.Select(AnyGuid, id => id.ToString())),
        // Guid.TryParse takes these forms too.
        (1, Gen.Select(AnyGuid, id => id.ToString("B"))),
        (1, Gen.Select(AnyGuid, id => id.ToString("N").ToUpperInvariant())),
        (1, Gen.OneOf<string>(["", "not-a-uuid", "00000000-0000-0000-0000-000000000000", "x"])),
        (1, TextGen),
    ]);

    private static SightingBatch NewBatch(string id, IEnumerable<Sighting> sightings)
    {
        var batch = new SightingBatch { BatchId = id };
        batch.Sightings.AddRange(sightings);
        return batch;
    }

    private static readonly Gen<SightingBatch> BatchGen = Gen.Frequency<SightingBatch>([
        (300, Gen.Select(BatchIdGen, SightingGen.Array[0, 12], (id, sightings) => NewBatch(id, sightings))),
        // At and just over the limit of 5,000 sightings a batch.
        (1, Gen.Select(BatchIdGen, ValidSightingGen, Gen.OneOf<int>([5_000, 5_001]), (id, sighting, count) => NewBatch(id, Enumerable.Repeat(sighting, count)))),
    ]);

    private static readonly Gen<SightingBatch[]> ReportStreamGen = BatchGen.Array[0, 4];

    // ---- Generators: edition imports ----

    private static readonly string[] RealEditionFiles =
        ["rfc1340.txt", "port-numbers_2008-02-29.txt", "service-names-port-numbers_2026-08-17.xml", "service-names-port-numbers_2026-04-24.csv"];

    private static readonly Lazy<byte[][]> RealEditions = new(() => RealEditionFiles.Select(RegistryData.Bytes).ToArray());

    /// <summary>Up to 32 KiB of a real edition, from its start (so that its format is recognised) or anywhere.</summary>
    private static byte[] Slice(int file, bool fromStart, uint at, int length)
    {
        var bytes = RealEditions.Value[file];
        var start = fromStart || bytes.Length == 0 ? 0 : (int)(at % (uint)bytes.Length);
        return bytes[start..Math.Min(bytes.Length, start + length)];
    }

    private static readonly Gen<string> RecordNameGen = Gen.Frequency<string>([(8, Gen.String[PlainCharGen, 1, 14]), (1, TextGen)]);

    private static readonly Gen<string> ProtocolGen = Gen.OneOf<string>(["tcp", "udp", "sctp", "dccp", "ddp", "TCP", "xyz", ""]);

    private static readonly Gen<uint> RecordPortGen = Gen.UInt[0, 70_000];

    private static readonly Gen<string> CommentGen = Gen.Frequency<string>([(3, Gen.Const("")), (1, Gen.Select(TextGen, text => " # " + text))]);

    private static readonly Gen<string> ServicesLineGen = Gen.Select(RecordNameGen, RecordPortGen, ProtocolGen, CommentGen,
        (name, port, protocol, comment) => $"{name}\t{port}/{protocol}{comment}");

    private static readonly Gen<string> NmapLineGen = Gen.Select(RecordNameGen, RecordPortGen, ProtocolGen, Gen.Double[0, 1],
        (name, port, protocol, frequency) => $"{name}\t{port}/{protocol}\t{frequency.ToString("0.000000", CultureInfo.InvariantCulture)}");

    private const string CsvHeader =
        "Service Name,Port Number,Transport Protocol,Description,Assignee,Contact,Registration Date,Modification Date,Reference,Service Code,Unauthorized Use Reported,Assignment Notes";

    private static readonly Gen<string> CsvRowGen = Gen.Select(RecordNameGen, RecordPortGen, ProtocolGen, TextGen,
        (name, port, protocol, description) => $"{name},{port},{protocol},{description},,,,,,,,");

    private static readonly Gen<string> XmlHeadGen = Gen.Select(Gen.OneOf<string>(["2020-01-01", "2026-13-01", "", "yesterday", "1999-02-30"]),
        updated => $"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<registry xmlns=\"http://www.iana.org/assignments\" id=\"service-names-port-numbers\">\n<updated>{updated}</updated>\n");

    private static readonly Gen<string> XmlRecordGen = Gen.Select(RecordNameGen, RecordPortGen, ProtocolGen, TextGen,
        (name, port, protocol, description) =>
            $"<record><name>{name}</name><protocol>{protocol}</protocol><number>{port}</number><description>{description}</description></record>\n");

    private static readonly Gen<byte[]> ContentGen = Gen.Frequency<byte[]>([
        (2, AnyByte.Array[0, 4_096]),
        (2, Gen.Select(TextGen.Array[1, 40], lines => Utf8(string.Join('\n', lines)))),
        (3, Gen.Select(ServicesLineGen.Array[1, 40], lines => Utf8(string.Join('\n', lines)))),
        (1, Gen.Select(NmapLineGen.Array[1, 40], lines => Utf8(string.Join('\n', lines)))),
        (2, Gen.Select(CsvRowGen.Array[0, 30], rows => Utf8(CsvHeader + "\n" + string.Join('\n', rows)))),
        (2, Gen.Select(XmlHeadGen, XmlRecordGen.Array[0, 20], AnyBool, (head, records, closed) => Utf8(head + string.Concat(records) + (closed ? "</registry>\n" : "")))),
        (4, Gen.Select(Gen.Int[0, RealEditionFiles.Length - 1], AnyBool, AnyUInt, Gen.Int[256, 32_768], MaybeMutationsGen,
            (file, fromStart, at, length, mutations) => Mutate(Slice(file, fromStart, at, length), mutations))),
    ]);

    private static readonly Gen<string> FileNameGen = Gen.Frequency<string>([
        (4, Gen.OneOf<string>([
            "upload.txt", "services", "nmap-services", "services_2001-05-06", "port-numbers_2001-01-01.txt", "registry.xml", "registry.csv", "",
            "x_2026-13-45.txt", "../../etc/passwd",
        ])),
        (1, TextGen),
    ]);

    private static readonly Gen<string> EditionIdGen = Gen.Frequency<string>([
        (4, Gen.Const("")),
        (2, Gen.Select(Gen.String[PlainCharGen, 1, 20], suffix => "fuzz-" + suffix)),
        (1, Gen.OneOf<string>(["iana-xml-2026-08-17", "rfc1340", "UPPER", "-x", ".", "..", new string('a', 64), new string('a', 65)])),
        (1, TextGen),
    ]);

    /// <summary>
    /// Server-side paths: the one real edition file given is the edition already imported (an import of another real
    /// one would restage thousands of ports); the others lead out of the import directory or nowhere.
    /// </summary>
    private static readonly Gen<string> ServerPathGen = Gen.Frequency<string>([
        (4, Gen.OneOf<string>([
            "service-names-port-numbers_2026-08-17.xml", "./service-names-port-numbers_2026-08-17.xml", "../registry/service-names-port-numbers_2026-08-17.xml",
            "PROVENANCE.md", "missing.txt", "/etc/passwd", "/etc/shadow", "../../../../../../etc/passwd", "/proc/self/environ", "/proc/self/mem", "/dev/zero",
            "/dev/urandom", ".", "..", "/", " ", "a\0b", "\u202e.txt", "~/.ssh/id_rsa", "C:\\Windows\\win.ini", "%2e%2e/%2e%2e/etc/passwd",
            "service-names-port-numbers_2026-08-17.xml/..", new string('a', 4_097),
        ])),
        (1, TextGen),
    ]);

    private static readonly Gen<ImportEditionHeader> ImportHeaderGen = Gen.Select(FileNameGen, EditionFormatGen, ImportDateGen, EditionIdGen,
        (fileName, format, date, id) => new ImportEditionHeader { FileName = fileName, Format = format, EffectiveDate = date, EditionId = id });

    private static ImportEditionRequest[] Header(ImportEditionHeader header, string serverPath = "")
    {
        header.ServerPath = serverPath;
        return [new ImportEditionRequest { Header = header }];
    }

    private static ImportEditionRequest[] Chunks(byte[] content, int parts)
    {
        if (content.Length == 0) return [new ImportEditionRequest { Chunk = ByteString.Empty }];
        var size = Math.Max(1, (content.Length + parts - 1) / parts);
        return content.Chunk(size).Select(part => new ImportEditionRequest { Chunk = ByteString.CopyFrom(part) }).ToArray();
    }

    private static ImportEditionRequest[] Sequence(params ImportEditionRequest[][] parts) => parts.SelectMany(part => part).ToArray();

    /// <summary>Streams of every shape: empty, a chunk first, a server path (with or without bytes), bytes, two headers, a header alone.</summary>
    private static readonly Gen<ImportEditionRequest[]> ImportStreamGen = Gen.Frequency<ImportEditionRequest[]>([
        (1, Gen.Const(Array.Empty<ImportEditionRequest>())),
        (1, Gen.Select(ContentGen, content => Chunks(content, 1))),
        (3, Gen.Select(ImportHeaderGen, ServerPathGen, (header, path) => Header(header, path))),
        (1, Gen.Select(ImportHeaderGen, ServerPathGen, ContentGen, (header, path, content) => Sequence(Header(header, path), Chunks(content, 1)))),
        (10, Gen.Select(ImportHeaderGen, ContentGen, Gen.Int[1, 4], (header, content, parts) => Sequence(Header(header), Chunks(content, parts)))),
        (1, Gen.Select(ImportHeaderGen, ContentGen, (header, content) => Sequence(Header(header), Chunks(content, 2), Header(header)))),
        (1, Gen.Select(ImportHeaderGen, header => Header(header))),
    ]);



    private static readonly IRpc GetPortRpc = new SingleRequestRpc<GetPortRequest>(RegistryService, "GetPort", MethodType.Unary, GetPortRequestGen,
        MostlyAdminGen, GetPortRequest.Parser, (channel, request, options) => Answer(new PortRegistry.PortRegistryClient(channel).GetPortAsync(request, options)),
        touch: (fuzz, request) => fuzz.TouchPort(request.HasPort, request.Port));

    private static readonly IRpc GetTimelineRpc = new SingleRequestRpc<GetTimelineRequest>(RegistryService, "GetTimeline", MethodType.Unary,
        GetTimelineRequestGen, MostlyAdminGen, GetTimelineRequest.Parser,
        (channel, request, options) => Answer(new PortRegistry.PortRegistryClient(channel).GetTimelineAsync(request, options)),
        touch: (fuzz, request) => fuzz.TouchPort(request.HasPort, request.Port));

    private static readonly IRpc FindServiceRpc = new SingleRequestRpc<FindServiceRequest>(RegistryService, "FindService", MethodType.Unary,
        FindServiceRequestGen, MostlyAdminGen, FindServiceRequest.Parser,
        (channel, request, options) => Answer(new PortRegistry.PortRegistryClient(channel).FindServiceAsync(request, options)));

    private static readonly IRpc DiffEditionsRpc = new SingleRequestRpc<DiffEditionsRequest>(RegistryService, "DiffEditions", MethodType.ServerStreaming,
        DiffEditionsRequestGen, MostlyAdminGen, DiffEditionsRequest.Parser,
        (channel, request, options) => Drain(new PortRegistry.PortRegistryClient(channel).DiffEditions(request, options)));

    private static readonly IRpc ListPortsRpc = new SingleRequestRpc<ListPortsRequest>(RegistryService, "ListPorts", MethodType.ServerStreaming,
        ListPortsRequestGen, MostlyAdminGen, ListPortsRequest.Parser,
        (channel, request, options) => Drain(new PortRegistry.PortRegistryClient(channel).ListPorts(request, options)));

    private static readonly IRpc ListEditionsRpc = new SingleRequestRpc<ListEditionsRequest>(RegistryService, "ListEditions", MethodType.Unary,
        ListEditionsRequestGen, MostlyAdminGen, ListEditionsRequest.Parser,
        (channel, request, options) => Answer(new PortRegistry.PortRegistryClient(channel).ListEditionsAsync(request, options)));

    private static readonly IRpc GetObservedRpc = new SingleRequestRpc<GetObservedRequest>(ObservationsServiceName, "GetObserved", MethodType.Unary,
        GetObservedRequestGen, MostlyAdminGen, GetObservedRequest.Parser,
        (channel, request, options) => Answer(new ObservationsService.ObservationsClient(channel).GetObservedAsync(request, options)),
        touch: (fuzz, request) => fuzz.TouchPort(request.HasPort, request.Port));

    private static readonly IRpc ListDiscrepanciesRpc = new SingleRequestRpc<ListDiscrepanciesRequest>(ObservationsServiceName, "ListDiscrepancies",
        MethodType.ServerStreaming, ListDiscrepanciesRequestGen, MostlyAdminGen, ListDiscrepanciesRequest.Parser,
        (channel, request, options) => Drain(new ObservationsService.ObservationsClient(channel).ListDiscrepancies(request, options)));

    private static readonly IRpc ReportBatchRpc = new SingleRequestRpc<SightingBatch>(SightingsService, "ReportBatch", MethodType.Unary, BatchGen,
        MostlyAgentGen, SightingBatch.Parser, (channel, request, options) => Answer(new Sightings.SightingsClient(channel).ReportBatchAsync(request, options)),
        touch: (fuzz, batch) => fuzz.TouchBatch(batch),
        answered: (fuzz, batch, response) => fuzz.Accepted(batch, response as BatchResult ?? BatchResult.Parser.ParseFrom((byte[])response)));

    private static readonly IRpc IssueTokenRpc = new SingleRequestRpc<IssueTokenRequest>(AccessAdminService, "IssueToken", MethodType.Unary,
        IssueTokenRequestGen, MostlyAdminGen, IssueTokenRequest.Parser,
        (channel, request, options) => Answer(new AccessAdmin.AccessAdminClient(channel).IssueTokenAsync(request, options)));

    private static readonly IRpc RevokeTokenRpc = new SingleRequestRpc<RevokeTokenRequest>(AccessAdminService, "RevokeToken", MethodType.Unary,
        RevokeTokenRequestGen, MostlyAdminGen, RevokeTokenRequest.Parser,
        (channel, request, options) => Answer(new AccessAdmin.AccessAdminClient(channel).RevokeTokenAsync(request, options)));

    private static readonly IRpc ListTokensRpc = new SingleRequestRpc<ListTokensRequest>(AccessAdminService, "ListTokens", MethodType.Unary,
        ListTokensRequestGen, MostlyAdminGen, ListTokensRequest.Parser,
        (channel, request, options) => Answer(new AccessAdmin.AccessAdminClient(channel).ListTokensAsync(request, options)));

    private static readonly IRpc RevokeHostRpc = new SingleRequestRpc<RevokeHostRequest>(AccessAdminService, "RevokeHost", MethodType.Unary,
        RevokeHostRequestGen, MostlyAdminGen, RevokeHostRequest.Parser,
        (channel, request, options) => Answer(new AccessAdmin.AccessAdminClient(channel).RevokeHostAsync(request, options)));

    private static readonly IRpc ApproveHostsRpc = new SingleRequestRpc<ApproveHostsRequest>(AccessAdminService, "ApproveHosts", MethodType.Unary,
        ApproveHostsRequestGen, MostlyAdminGen, ApproveHostsRequest.Parser,
        (channel, request, options) => Answer(new AccessAdmin.AccessAdminClient(channel).ApproveHostsAsync(request, options)));

    private static readonly IRpc ListEnrollmentHostsRpc = new SingleRequestRpc<ListEnrollmentHostsRequest>(AccessAdminService, "ListEnrollmentHosts", MethodType.Unary,
        ListEnrollmentHostsRequestGen, MostlyAdminGen, ListEnrollmentHostsRequest.Parser,
        (channel, request, options) => Answer(new AccessAdmin.AccessAdminClient(channel).ListEnrollmentHostsAsync(request, options)));

    private static readonly IRpc ReportRpc = new ReportStreamRpc();

    private static readonly IRpc ImportEditionRpc = new ImportStreamRpc();

    /// <summary>Every RPC but ImportEdition, which is sent at fixed message indices (see <see cref="ImportAt"/>).</summary>
    // Differential host reports: sockets with odd ports, scopes, addresses and names; a digest that is mostly wrong or the
    // right one; any body, epoch and seq.
    private static readonly Gen<HostSocket> HostSocketGen = Gen.Select(OptionalPortGen, TransportGen, BindScopeGen,
        Gen.Frequency<string>([(3, Gen.Const("")), (1, LocalAddressGen)]), Gen.Frequency<string>([(6, Gen.String[PlainCharGen, 1, 12]), (1, TextGen)]),
        Gen.Frequency<string>([(4, Gen.Const("/usr/sbin/fuzzd")), (1, TextGen)]),
        (port, transport, scope, address, name, executable) =>
        {
            var socket = new HostSocket { Transport = transport, BindScope = scope, BoundAddress = address, ProcessName = name, Executable = executable };
            if (port is { } p) socket.Port = p;
            return socket;
        });

    private static readonly Gen<HostReport> HostReportGen = Gen.Select(FuzzHostRefGen, AnyULong, OddTimestampGen, Gen.ULong[0, 5], HostSocketGen.Array[0, 8],
        Gen.Int[0, 3], AnyByte.Array[0, 20],
        (host, epoch, started, seq, sockets, body, digest) =>
        {
            var report = new HostReport
            {
                HostRef = host, Epoch = new ReportEpoch { Id = epoch, StartedAt = started }, Seq = seq, ObservedAt = started, AgentVersion = "fuzz",
                SetHash = digest.Length == 0 ? SocketSetHash.Of(sockets).ToByteString() : ByteString.CopyFrom(digest),
            };
            switch (body)
            {
                case 0: report.Snapshot = new HostSnapshot { Sockets = { sockets } }; break;
                case 1: report.Changes = new HostChanges { Added = { sockets.Take(4) }, Removed = { sockets.Skip(4) } }; break;
                case 2: report.Heartbeat = new HostHeartbeat(); break;
            }

            return report;
        });

    private static readonly Gen<WatchRequest> WatchRequestGen = Gen.Select(OddRangeGen.Array[0, 3], TransportGen.Array[0, 3], VerdictKindGen.Array[0, 3],
        TextGen.Array[0, 3], EnumGen<WatchEventKind>().Array[0, 3], Gen.Frequency<ulong?>([(3, Gen.Select(Gen.Bool, _ => (ulong?)null)), (1, Gen.Select(AnyULong, u => (ulong?)u))]),
        (ports, transports, verdicts, names, kinds, after) =>
        {
            var request = new WatchRequest { Ports = { ports }, Transports = { transports }, Verdicts = { verdicts }, ProcessNames = { names }, Kinds = { kinds } };
            if (after is { } cursor) request.AfterCursor = cursor;
            return request;
        });

    private static readonly IRpc ReportHostRpc = new SingleRequestRpc<HostReport>(SightingsService, "ReportHost", MethodType.Unary, HostReportGen,
        MostlyAgentGen, HostReport.Parser, (channel, request, options) => Answer(new Sightings.SightingsClient(channel).ReportHostAsync(request, options)));

    private static readonly IRpc WatchRpc = new SingleRequestRpc<WatchRequest>(ObservationsServiceName, "Watch", MethodType.ServerStreaming, WatchRequestGen,
        MostlyAdminGen, WatchRequest.Parser, (channel, request, options) => FirstOf(new ObservationsService.ObservationsClient(channel).Watch(request, options)),
        endless: true);

    private static readonly Gen<string> DayTextGen = Gen.Frequency<string>([
        (4, Gen.Select(Gen.Int[-4000, 800], days => DateTime.UtcNow.Date.AddDays(days).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))),
        (1, Gen.Const("")),
        (1, Gen.OneOf(Gen.Const("0001-01-01"), Gen.Const("9999-12-31"), Gen.Const("2024-02-30"), Gen.Const("2024-1-1"))),
        (1, TextGen),
    ]);

    private static readonly Gen<GetUsageHistoryRequest> GetUsageHistoryRequestGen = Gen.Select(OptionalPortGen, TransportGen, DayTextGen, DayTextGen,
        EnumGen<UsageGranularity>(), Gen.Frequency<uint>([(4, Gen.UInt[0, 25]), (1, Gen.UInt)]), (port, transport, from, to, granularity, top) =>
        {
            var request = new GetUsageHistoryRequest { Transport = transport, From = from, To = to, Granularity = granularity, Top = top };
            if (port is { } value) request.Port = value;
            return request;
        });

    private static readonly IRpc GetUsageHistoryRpc = new SingleRequestRpc<GetUsageHistoryRequest>("porthistory.v1.Usage", "GetUsageHistory", MethodType.Unary,
        GetUsageHistoryRequestGen, MostlyAdminGen, GetUsageHistoryRequest.Parser,
        (channel, request, options) => Answer(new Usage.UsageClient(channel).GetUsageHistoryAsync(request, options)),
        touch: (fuzz, request) => fuzz.TouchPort(request.HasPort, request.Port));

    private static readonly Gen<IRpc> RpcGen = Gen.Frequency<IRpc>([
        (16, GetPortRpc), (8, GetTimelineRpc), (8, FindServiceRpc), (4, DiffEditionsRpc), (4, ListPortsRpc), (3, ListEditionsRpc),
        (12, GetObservedRpc), (4, ListDiscrepanciesRpc),
        (16, ReportBatchRpc), (6, ReportRpc),
        (5, IssueTokenRpc), (5, RevokeTokenRpc), (3, ListTokensRpc),
        (2, RevokeHostRpc), (2, ApproveHostsRpc), (1, ListEnrollmentHostsRpc),
        (10, ReportHostRpc), (3, WatchRpc), (6, GetUsageHistoryRpc),
    ]);
}
