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

/// <summary>
/// A seeded fuzzer for the gRPC surface. Requests come from CsCheck generators (ports out of range, enum fields with
/// numbers the contract does not define, empty, huge and hostile text, timestamps and dates that cannot be), and a
/// quarter of them are sent as the bytes of a valid encoding mutated (bits flipped, truncated, junk appended or
/// inserted, fields that run past the end, unknown fields, groups nested too deep). Message i is drawn from
/// <c>new PCG((uint)i, seed)</c> alone, so the seed and the index reproduce it whatever the interleaving of calls.
/// </summary>
/// <remarks>
/// A request that is not valid protobuf is the caller's fault: the server answers InvalidArgument, also for unary
/// calls, whose request grpc-dotnet decodes before any interceptor runs (PortHistory registers the methods with a
/// request marshaller that says so). Every Internal or Unknown answer fails the run.
/// </remarks>
public sealed class WireFuzz
{
    public const ulong DefaultSeed = 20_260_817;

    private const int Concurrency = 16;
    private const int MaxImports = 24;
    private const int SampledPorts = 300;
    private const uint MaxPort = 65_535;
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ImportTimeout = TimeSpan.FromSeconds(120);

    private const string RegistryService = "porthistory.v1.PortRegistry";
    private const string ObservationsServiceName = "porthistory.v1.Observations";
    private const string SightingsService = "porthistory.v1.Sightings";
    private const string RegistryAdminService = "porthistory.v1.RegistryAdmin";
    private const string AccessAdminService = "porthistory.v1.AccessAdmin";

    // Declared first: the raw methods below are built from it while the static fields are initialized, in order.
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create<byte[]>(b => b, b => b);

    private readonly GrpcChannel _admin;
    private readonly GrpcChannel _agent;
    private readonly GrpcChannel _anonymous;
    private readonly CallInvoker _adminInvoker;
    private readonly CallInvoker _agentInvoker;
    private readonly CallInvoker _anonymousInvoker;
    private readonly int _messages;
    private readonly ulong _seed;
    private readonly ConcurrentDictionary<string, int> _statuses = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<FuzzOffence> _offences = new();
    private readonly ConcurrentDictionary<uint, byte> _touched = new();
    private readonly ConcurrentDictionary<uint, byte> _sighted = new();
    private int _next = -1;
    private int _sent;
    private int _unsendable;
    private int _offenceCount;

    private WireFuzz(GrpcChannel admin, GrpcChannel agent, GrpcChannel anonymous, int messages, ulong seed)
    {
        _admin = admin;
        _agent = agent;
        _anonymous = anonymous;
        _adminInvoker = admin.CreateCallInvoker();
        _agentInvoker = agent.CreateCallInvoker();
        _anonymousInvoker = anonymous.CreateCallInvoker();
        _messages = messages;
        _seed = seed;
    }

    /// <summary>PORTHISTORY_FUZZ_SEED: a number, or "random"; unset, <see cref="DefaultSeed"/>.</summary>
    public static ulong SeedFromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable("PORTHISTORY_FUZZ_SEED")?.Trim();
        if (string.IsNullOrEmpty(text)) return DefaultSeed;
        if (text.Equals("random", StringComparison.OrdinalIgnoreCase)) return (ulong)Random.Shared.NextInt64(long.MaxValue);
        return ulong.Parse(text, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Sends at least <paramref name="messages"/> calls, 16 in flight, through the three channels (the admin's for
    /// most, so that the input reaches the handlers; the agent's, none and forged tokens for a share), then asks
    /// grpc.health.v1 and, as admin, GetPort and GetObserved for every port that had sightings accepted and a sample
    /// of the other ports touched.
    /// </summary>
    public static async Task<FuzzReport> RunAsync(GrpcChannel admin, GrpcChannel agent, GrpcChannel anonymous, int messages, ulong seed)
    {
        var fuzz = new WireFuzz(admin, agent, anonymous, messages, seed);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => Task.Run(() => fuzz.WorkAsync())));
        var elapsed = clock.Elapsed;
        var (portsChecked, failures) = await fuzz.CheckAfterwardAsync();
        return new FuzzReport
        {
            Seed = seed,
            Requested = messages,
            Sent = fuzz._sent,
            Unsendable = fuzz._unsendable,
            Elapsed = elapsed,
            Statuses = new SortedDictionary<string, int>(fuzz._statuses, StringComparer.Ordinal),
            Calls = new SortedDictionary<string, int>(fuzz._calls, StringComparer.Ordinal),
            OffenceCount = fuzz._offenceCount,
            Offences = fuzz._offences.OrderBy(o => o.Index).Take(20).ToList(),
            PortsTouched = fuzz._touched.Count,
            PortsWithSightings = fuzz._sighted.Count,
            PortsChecked = portsChecked,
            AfterwardFailures = failures,
        };
    }

    private async Task WorkAsync()
    {
        while (Volatile.Read(ref _sent) < _messages)
        {
            var index = Interlocked.Increment(ref _next);
            // Only if (nearly) nothing drawn could be encoded; it would otherwise never end.
            if (index >= 2 * _messages + Concurrency) return;
            var pcg = new PCG((uint)index, _seed);
            var rpc = ImportAt(index) ? ImportEditionRpc : Draw(RpcGen, pcg);
            bool sent;
            try
            {
                sent = await rpc.SendAsync(this, index, pcg);
            }
            catch (Exception e)
            {
                // Not an answer from the server: the client or the fuzzer itself failed. Reported, never ignored.
                Count(_statuses, "client exception");
                Count(_calls, $"{rpc.Name}: client exception");
                Offend(new FuzzOffence(index, rpc.Name, "-", false, "client exception", $"{e.GetType().Name}: {e.Message}"));
                sent = true;
            }

            if (sent) Interlocked.Increment(ref _sent);
            else Interlocked.Increment(ref _unsendable);
        }
    }

    /// <summary>Imports are heavy (a parse, and a generation when one succeeds): a few dozen per ten thousand messages.</summary>
    private bool ImportAt(int index)
    {
        var stride = Math.Max(50, _messages / MaxImports);
        return index % stride == stride / 2;
    }

    private async Task<(int Checked, List<string> Failures)> CheckAfterwardAsync()
    {
        var failures = new ConcurrentQueue<string>();
        try
        {
            var health = await new Health.HealthClient(_anonymous).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
            if (health.Status != HealthCheckResponse.Types.ServingStatus.Serving) failures.Enqueue($"grpc.health.v1: {health.Status}");
        }
        catch (RpcException e)
        {
            failures.Enqueue($"grpc.health.v1: {e.StatusCode} \"{e.Status.Detail}\"");
        }

        var sighted = _sighted.Keys.Order().ToList();
        var others = _touched.Keys.Where(port => !_sighted.ContainsKey(port)).Order().ToArray();
        var pcg = new PCG(uint.MaxValue, _seed);
        for (var i = others.Length - 1; i > 0; i--)
        {
            var j = (int)pcg.Next((uint)i + 1);
            (others[i], others[j]) = (others[j], others[i]);
        }

        var ports = sighted.Concat(others.Take(SampledPorts)).ToList();
        var registry = new PortRegistry.PortRegistryClient(_admin);
        var observations = new ObservationsService.ObservationsClient(_admin);
        await Parallel.ForEachAsync(ports, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (port, _) =>
        {
            var getPort = await FailureOfAsync(() => registry.GetPortAsync(new GetPortRequest { Port = port }, deadline: DateTime.UtcNow + CallTimeout).ResponseAsync);
            if (getPort is not null) failures.Enqueue($"GetPort {port}: {getPort}");
            var observed = await FailureOfAsync(() =>
                observations.GetObservedAsync(new GetObservedRequest { Port = port }, deadline: DateTime.UtcNow + CallTimeout).ResponseAsync);
            if (observed is not null) failures.Enqueue($"GetObserved {port}: {observed}");
        });
        return (ports.Count, failures.ToList());
    }

    /// <summary>Null when the call answers OK; Unavailable (the cluster busy for a moment) is retried a few times.</summary>
    private static async Task<string?> FailureOfAsync(Func<Task> call)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await call();
                return null;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && attempt < 5)
            {
                await Task.Delay(200 * attempt);
            }
            catch (RpcException e)
            {
                return $"{e.StatusCode} \"{e.Status.Detail}\"";
            }
        }
    }

    // ---- Who calls ----

    private enum Caller
    {
        Admin,
        Agent,
        Anonymous,
        Forged,
    }

    private GrpcChannel ChannelOf(Caller caller) => caller switch
    {
        Caller.Admin => _admin,
        Caller.Agent => _agent,
        _ => _anonymous,
    };

    private CallInvoker InvokerOf(Caller caller) => caller switch
    {
        Caller.Admin => _adminInvoker,
        Caller.Agent => _agentInvoker,
        _ => _anonymousInvoker,
    };

    /// <summary>A forged caller sends its own authorization header on the channel that sends none.</summary>
    private static CallOptions Options(Caller caller, PCG pcg, TimeSpan timeout)
    {
        var headers = caller == Caller.Forged ? new Metadata { { "authorization", Draw(ForgedTokenGen, pcg) } } : null;
        return new CallOptions(headers: headers, deadline: DateTime.UtcNow + timeout);
    }

    // ---- What was sent, what came back ----

    private readonly record struct Outcome(StatusCode Status, string Detail, Exception? RaisedInClient)
    {
        public static Outcome Ok => new(StatusCode.OK, "", null);
    }

    private static async Task<Outcome> Observe(Func<Task> call)
    {
        try
        {
            await call();
            return Outcome.Ok;
        }
        catch (RpcException e)
        {
            return new Outcome(e.StatusCode, e.Status.Detail, e.Status.DebugException);
        }
    }

    private void Record(int index, string method, Caller caller, bool raw, Outcome outcome, bool undecodable, bool readBeforeHandlers)
    {
        var status = undecodable ? $"{outcome.Status} (undecodable request)" : outcome.Status.ToString();
        Count(_statuses, status);
        Count(_calls, $"{method}{(raw ? " raw" : "")}: {status}");
        if (outcome.Status is not (StatusCode.Internal or StatusCode.Unknown) && outcome.RaisedInClient is null) return;
        Offend(new FuzzOffence(index, method, caller.ToString(), raw, outcome.Status.ToString(), Describe(outcome)));
    }

    private static string Describe(Outcome outcome)
    {
        var detail = outcome.RaisedInClient is { } e ? $"{outcome.Detail} [raised in the client: {e.GetType().Name}: {e.Message}]" : outcome.Detail;
        return detail.Length <= 400 ? detail : detail[..400] + "...";
    }

    private static void Count(ConcurrentDictionary<string, int> counts, string key) => counts.AddOrUpdate(key, 1, (_, n) => n + 1);

    private void Offend(FuzzOffence offence)
    {
        if (Interlocked.Increment(ref _offenceCount) <= 1_000) _offences.Enqueue(offence);
    }

    private void TouchPort(bool present, uint port)
    {
        if (present && port <= MaxPort) _touched.TryAdd(port, 0);
    }

    private void TouchBatch(SightingBatch batch)
    {
        foreach (var sighting in batch.Sightings) TouchPort(sighting.HasPort, sighting.Port);
    }

    /// <summary>The ports of the sightings the server says it recorded (all but the rejected ones of a batch not refused whole).</summary>
    private void Accepted(SightingBatch batch, BatchResult result)
    {
        if (result.Error.Length > 0 || result.Duplicate || result.Accepted == 0) return;
        var rejected = result.Rejected.Select(r => r.Index).ToHashSet();
        for (var i = 0; i < batch.Sightings.Count; i++)
        {
            var sighting = batch.Sightings[i];
            if (!rejected.Contains((uint)i) && sighting.HasPort && sighting.Port <= MaxPort) _sighted.TryAdd(sighting.Port, 0);
        }
    }

    // ---- Drawing, encoding, mutating ----

    private static T Draw<T>(Gen<T> gen, PCG pcg) => gen.Generate(pcg, null!, out _);

    /// <summary>
    /// A string with an unpaired surrogate has no UTF-8 form; depending on the Google.Protobuf version the client
    /// replaces it or throws. A message that cannot be encoded is not sent (and counted as such).
    /// </summary>
    private static bool TryEncode(IMessage message, out byte[] bytes)
    {
        try
        {
            bytes = message.ToByteArray();
            return true;
        }
        catch (ArgumentException)
        {
            bytes = [];
            return false;
        }
    }

    private static T? TryParse<T>(MessageParser<T> parser, byte[] bytes) where T : class, IMessage<T>
    {
        try
        {
            return parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }

    private sealed record Mutation(int Kind, uint At, uint Span, byte[] Junk);

    private static byte[] Mutate(byte[] bytes, Mutation[] mutations)
    {
        foreach (var mutation in mutations) bytes = Apply(bytes, mutation);
        return bytes;
    }

    private static byte[] Apply(byte[] bytes, Mutation m)
    {
        var at = bytes.Length == 0 ? 0 : (int)(m.At % (uint)bytes.Length);
        return m.Kind switch
        {
            // A few bits flipped.
            0 => Flip(bytes, at, m.Junk),
            // Cut short.
            1 => bytes[..at],
            // Junk after the end, or in the middle.
            2 => [.. bytes, .. m.Junk],
            3 => [.. bytes[..at], .. m.Junk, .. bytes[at..]],
            // A varint that does not end, or a length that runs past the end.
            4 => Overwrite(bytes, at, (m.Span & 1) == 0 ? (byte)0xff : (byte)0x80),
            // The message twice: protobuf merges, so this one still decodes.
            5 => [.. bytes, .. bytes],
            // Nothing of the message.
            6 => m.Junk,
            // Field 1, length-delimited, with a length of 4 GiB.
            7 => [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, .. bytes],
            // Field 1000 (unknown), varint: still decodes.
            8 => [.. bytes, 0xc0, 0x3e, (byte)(m.Span & 0x7f)],
            // Field 1 with another wire type (fixed32): kept as an unknown field, still decodes.
            9 => [.. bytes, 0x0d, (byte)m.Span, (byte)(m.Span >> 8), (byte)(m.Span >> 16), (byte)(m.Span >> 24)],
            // Groups nested deeper than the parser's recursion limit.
            10 => [.. Enumerable.Repeat((byte)0x0b, 150), .. bytes],
            // A few bytes deleted.
            _ => [.. bytes[..at], .. bytes[Math.Min(bytes.Length, at + 1 + (int)(m.Span % 16))..]],
        };
    }

    private static byte[] Flip(byte[] bytes, int at, byte[] masks)
    {
        if (bytes.Length == 0) return masks;
        var flipped = (byte[])bytes.Clone();
        for (var i = 0; i < Math.Min(4, masks.Length); i++) flipped[(at + i * 7) % flipped.Length] ^= (byte)(masks[i] | 1);
        return flipped;
    }

    private static byte[] Overwrite(byte[] bytes, int at, byte value)
    {
        if (bytes.Length == 0) return [value];
        var changed = (byte[])bytes.Clone();
        changed[at] = value;
        return changed;
    }

    private static string Repeat(string unit, int length)
    {
        var text = new StringBuilder(length + unit.Length);
        while (text.Length < length) text.Append(unit);
        text.Length = length;
        return text.ToString();
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static TEnum Unknown<TEnum>(int number) where TEnum : struct, Enum => Unsafe.BitCast<int, TEnum>(number);

    private static async Task<object?> Answer<T>(AsyncUnaryCall<T> call)
    {
        using (call) return await call.ResponseAsync;
    }

    private static async Task<object?> Drain<T>(AsyncServerStreamingCall<T> call)
    {
        using (call) await DrainAsync(call.ResponseStream);
        return null;
    }

    private static async Task DrainAsync<T>(IAsyncStreamReader<T> responses)
    {
        while (await responses.MoveNext(CancellationToken.None))
        {
        }
    }

    /// <summary>
    /// Writes and completes a request stream. A server that refuses the call ends it without reading, and a write
    /// racing that end fails (Cancelled, or "the call is complete"); the call's real status comes with its response.
    /// </summary>
    private static async Task WriteAllAsync<T>(IClientStreamWriter<T> requests, IEnumerable<T> messages)
    {
        try
        {
            foreach (var message in messages) await requests.WriteAsync(message);
            await requests.CompleteAsync();
        }
        catch (RpcException)
        {
        }
        catch (InvalidOperationException)
        {
        }
    }

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

    // ---- The RPCs ----

    private interface IRpc
    {
        string Name { get; }

        /// <returns>False when the drawn message could not be encoded and nothing was sent.</returns>
        Task<bool> SendAsync(WireFuzz fuzz, int index, PCG pcg);
    }

    /// <summary>A unary or server-streaming RPC: its one request generated, or its encoding mutated and sent as bytes.</summary>
    private sealed class SingleRequestRpc<TRequest>(
        string service,
        string method,
        MethodType type,
        Gen<TRequest> requests,
        Gen<Caller> callers,
        MessageParser<TRequest> parser,
        Func<GrpcChannel, TRequest, CallOptions, Task<object?>> call,
        Action<WireFuzz, TRequest>? touch = null,
        Action<WireFuzz, TRequest, object>? answered = null) : IRpc
        where TRequest : class, IMessage<TRequest>
    {
        private readonly Method<byte[], byte[]> _raw = new(type, service, method, Bytes, Bytes);

        public string Name { get; } = $"{service[(service.LastIndexOf('.') + 1)..]}/{method}";

        public async Task<bool> SendAsync(WireFuzz fuzz, int index, PCG pcg)
        {
            var caller = Draw(callers, pcg);
            var raw = Draw(RawShare, pcg);
            var request = Draw(requests, pcg);
            Mutation[] mutations = raw ? Draw(MutationsGen, pcg) : [];
            var options = Options(caller, pcg, CallTimeout);
            if (!TryEncode(request, out var encoded)) return false;

            if (!raw)
            {
                touch?.Invoke(fuzz, request);
                var outcome = await Observe(async () =>
                {
                    if (await call(fuzz.ChannelOf(caller), request, options) is { } response) answered?.Invoke(fuzz, request, response);
                });
                fuzz.Record(index, Name, caller, raw: false, outcome, undecodable: false, readBeforeHandlers: true);
                return true;
            }

            var payload = Mutate(encoded, mutations);
            var decoded = TryParse(parser, payload);
            if (decoded is not null) touch?.Invoke(fuzz, decoded);
            var rawOutcome = await Observe(async () =>
            {
                var invoker = fuzz.InvokerOf(caller);
                if (_raw.Type == MethodType.Unary)
                {
                    using var unary = invoker.AsyncUnaryCall(_raw, null, options, payload);
                    var response = await unary.ResponseAsync;
                    if (decoded is not null) answered?.Invoke(fuzz, decoded, response);
                }
                else
                {
                    using var stream = invoker.AsyncServerStreamingCall(_raw, null, options, payload);
                    await DrainAsync(stream.ResponseStream);
                }
            });
            fuzz.Record(index, Name, caller, raw: true, rawOutcome, undecodable: decoded is null, readBeforeHandlers: true);
            return true;
        }
    }

    /// <summary>Sightings/Report: a few batches on one client stream, generated or each mutated.</summary>
    private sealed class ReportStreamRpc : IRpc
    {
        private readonly Method<byte[], byte[]> _raw = new(MethodType.ClientStreaming, SightingsService, "Report", Bytes, Bytes);

        public string Name => "Sightings/Report";

        public async Task<bool> SendAsync(WireFuzz fuzz, int index, PCG pcg)
        {
            var caller = Draw(MostlyAgentGen, pcg);
            var raw = Draw(RawShare, pcg);
            var batches = Draw(ReportStreamGen, pcg);
            var options = Options(caller, pcg, CallTimeout);
            var encoded = new byte[batches.Length][];
            for (var i = 0; i < batches.Length; i++)
            {
                if (!TryEncode(batches[i], out encoded[i])) return false;
            }

            if (!raw)
            {
                foreach (var batch in batches) fuzz.TouchBatch(batch);
                var outcome = await Observe(async () =>
                {
                    using var call = new Sightings.SightingsClient(fuzz.ChannelOf(caller)).Report(options);
                    await WriteAllAsync(call.RequestStream, batches);
                    var response = await call.ResponseAsync;
                    for (var i = 0; i < batches.Length && i < response.Batches.Count; i++) fuzz.Accepted(batches[i], response.Batches[i]);
                });
                fuzz.Record(index, Name, caller, raw: false, outcome, undecodable: false, readBeforeHandlers: false);
                return true;
            }

            var payloads = encoded.Select(bytes => Mutate(bytes, Draw(MaybeMutationsGen, pcg))).ToArray();
            var decoded = payloads.Select(payload => TryParse(SightingBatch.Parser, payload)).ToArray();
            foreach (var batch in decoded)
            {
                if (batch is not null) fuzz.TouchBatch(batch);
            }

            var rawOutcome = await Observe(async () =>
            {
                using var call = fuzz.InvokerOf(caller).AsyncClientStreamingCall(_raw, null, options);
                await WriteAllAsync(call.RequestStream, payloads);
                var response = ReportResponse.Parser.ParseFrom(await call.ResponseAsync);
                for (var i = 0; i < decoded.Length && i < response.Batches.Count; i++)
                {
                    if (decoded[i] is { } batch) fuzz.Accepted(batch, response.Batches[i]);
                }
            });
            fuzz.Record(index, Name, caller, raw: true, rawOutcome, undecodable: decoded.Any(batch => batch is null), readBeforeHandlers: false);
            return true;
        }
    }

    /// <summary>RegistryAdmin/ImportEdition: a request stream of any shape, its progress read to the end.</summary>
    private sealed class ImportStreamRpc : IRpc
    {
        private readonly Method<byte[], byte[]> _raw = new(MethodType.DuplexStreaming, RegistryAdminService, "ImportEdition", Bytes, Bytes);

        public string Name => "RegistryAdmin/ImportEdition";

        public async Task<bool> SendAsync(WireFuzz fuzz, int index, PCG pcg)
        {
            var caller = Draw(MostlyAdminGen, pcg);
            var raw = Draw(RawShare, pcg);
            var messages = Draw(ImportStreamGen, pcg);
            var options = Options(caller, pcg, ImportTimeout);
            var encoded = new byte[messages.Length][];
            for (var i = 0; i < messages.Length; i++)
            {
                if (!TryEncode(messages[i], out encoded[i])) return false;
            }

            if (!raw)
            {
                var outcome = await Observe(async () =>
                {
                    using var call = new RegistryAdmin.RegistryAdminClient(fuzz.ChannelOf(caller)).ImportEdition(options);
                    await WriteAllAsync(call.RequestStream, messages);
                    await DrainAsync(call.ResponseStream);
                });
                fuzz.Record(index, Name, caller, raw: false, outcome, undecodable: false, readBeforeHandlers: false);
                return true;
            }

            var payloads = encoded.Select(bytes => Mutate(bytes, Draw(MaybeMutationsGen, pcg))).ToArray();
            var undecodable = payloads.Any(payload => TryParse(ImportEditionRequest.Parser, payload) is null);
            var rawOutcome = await Observe(async () =>
            {
                using var call = fuzz.InvokerOf(caller).AsyncDuplexStreamingCall(_raw, null, options);
                await WriteAllAsync(call.RequestStream, payloads);
                await DrainAsync(call.ResponseStream);
            });
            fuzz.Record(index, Name, caller, raw: true, rawOutcome, undecodable, readBeforeHandlers: false);
            return true;
        }
    }

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
    private static readonly Gen<IRpc> RpcGen = Gen.Frequency<IRpc>([
        (16, GetPortRpc), (8, GetTimelineRpc), (8, FindServiceRpc), (4, DiffEditionsRpc), (4, ListPortsRpc), (3, ListEditionsRpc),
        (12, GetObservedRpc), (4, ListDiscrepanciesRpc),
        (16, ReportBatchRpc), (6, ReportRpc),
        (5, IssueTokenRpc), (5, RevokeTokenRpc), (3, ListTokensRpc),
        (2, RevokeHostRpc), (2, ApproveHostsRpc), (1, ListEnrollmentHostsRpc),
    ]);
}

/// <summary>An answer the server must never give (or a failure in the client), with what reproduces it.</summary>
public sealed record FuzzOffence(int Index, string Method, string Caller, bool Raw, string Status, string Detail)
{
    public override string ToString() => $"message {Index}: {Method}{(Raw ? " (mutated bytes)" : "")} as {Caller}: {Status} \"{Detail}\"";
}

public sealed class FuzzReport
{
    public required ulong Seed { get; init; }

    public required int Requested { get; init; }

    public required int Sent { get; init; }

    /// <summary>Drawn messages the client could not encode (unpaired surrogates), not sent and not counted as sent.</summary>
    public required int Unsendable { get; init; }

    public required TimeSpan Elapsed { get; init; }

    /// <summary>Answers per status ("OK", "InvalidArgument", ...; grpc-dotnet's answers to undecodable bytes apart).</summary>
    public required IReadOnlyDictionary<string, int> Statuses { get; init; }

    /// <summary>Answers per method (and "raw" for mutated bytes) and status.</summary>
    public required IReadOnlyDictionary<string, int> Calls { get; init; }

    public required int OffenceCount { get; init; }

    /// <summary>The first offences by message index (at most 20).</summary>
    public required IReadOnlyList<FuzzOffence> Offences { get; init; }

    public required int PortsTouched { get; init; }

    public required int PortsWithSightings { get; init; }

    public required int PortsChecked { get; init; }

    /// <summary>Health not SERVING, or a port that did not answer GetPort or GetObserved with OK afterwards.</summary>
    public required IReadOnlyList<string> AfterwardFailures { get; init; }

    public bool Passed => OffenceCount == 0 && AfterwardFailures.Count == 0;

    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"wire fuzz, seed {Seed} (PORTHISTORY_FUZZ_SEED={Seed} repeats it; message i is drawn from new PCG(i, seed) alone): {Sent} calls sent for {Requested} asked, {Unsendable} drawn that the client cannot encode (skipped), in {Elapsed.TotalSeconds:0.0} s");
        text.AppendLine(CultureInfo.InvariantCulture, $"statuses: {string.Join(", ", Statuses.Select(s => $"{s.Key}={s.Value}"))}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Internal or Unknown answers and client failures: {OffenceCount}");
        foreach (var offence in Offences) text.AppendLine(CultureInfo.InvariantCulture, $"  {offence}");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"afterwards: {PortsChecked} ports asked for GetPort and GetObserved as admin ({PortsWithSightings} with accepted sightings, the others sampled from {PortsTouched} touched); {AfterwardFailures.Count} failures");
        foreach (var failure in AfterwardFailures.Take(20)) text.AppendLine(CultureInfo.InvariantCulture, $"  {failure}");
        text.AppendLine("answers by method and status:");
        foreach (var (key, count) in Calls) text.AppendLine(CultureInfo.InvariantCulture, $"  {key}: {count}");
        return text.ToString();
    }
}
