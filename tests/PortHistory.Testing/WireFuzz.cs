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
public sealed partial class WireFuzz
{
    public const ulong DefaultSeed = 20_260_817;

    private const int Concurrency = 16;
    private const int MaxImports = 24;
    private const int SampledPorts = 300;
    private const uint MaxPort = 65_535;

    private const string RegistryService = "porthistory.v1.PortRegistry";
    private const string ObservationsServiceName = "porthistory.v1.Observations";
    private const string SightingsService = "porthistory.v1.Sightings";
    private const string RegistryAdminService = "porthistory.v1.RegistryAdmin";
    private const string AccessAdminService = "porthistory.v1.AccessAdmin";

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
}
