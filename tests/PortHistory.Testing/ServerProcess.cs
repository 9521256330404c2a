using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace PortHistory.Testing;

/// <summary>
/// The real PortHistory server, started as its own process (the built PortHistory.Server.dll) against a test
/// database, on free ports. Tests talk to it over gRPC like any client, and can kill it (SIGKILL) and start it again.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Dictionary<string, string> _environment;
    private readonly ConcurrentQueue<string> _log = new();
    private Process? _process;

    private readonly string _tokenFile = Path.Combine(Path.GetTempPath(), $"porthistory-admin-{Guid.NewGuid():N}");
    private readonly string? _certificateFile;
    private readonly X509Certificate2? _certificate;
    private string? _adminToken;
    private int _certificatesPresented;
    private readonly string? _serverAssembly;

    /// <param name="certificate">When given, the gRPC endpoint serves TLS with it (written to a PKCS#12 file the
    /// server reads), and this process's channels trust exactly that certificate.</param>
    /// <param name="serverAssembly">Another build of the server (a benchmark's earlier build); by default this one's.</param>
    public ServerProcess(string connectionString, IReadOnlyDictionary<string, string>? settings = null, X509Certificate2? certificate = null,
        string? serverAssembly = null)
    {
        _serverAssembly = serverAssembly;
        GrpcPort = PostgresServer.FreePort();
        _certificate = certificate;
        Address = $"{(certificate is null ? "http" : "https")}://127.0.0.1:{GrpcPort}";
        HttpAddress = $"http://127.0.0.1:{PostgresServer.FreePort()}";
        // Many server processes run at once: each scrape endpoint on a port of its own, not the default 9464.
        MetricsAddress = $"http://127.0.0.1:{PostgresServer.FreePort()}";
        _environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__PortHistory"] = connectionString,
            ["Kestrel__Endpoints__Grpc__Url"] = Address,
            ["Kestrel__Endpoints__Http__Url"] = HttpAddress,
            ["Kestrel__Endpoints__Metrics__Url"] = MetricsAddress,
            // Every scrape reads the figures of that moment: tests compare two scrapes taken a moment apart.
            ["PortHistory__Metrics__ScrapeCacheMilliseconds"] = "0",
            ["PortHistory__Silo__SiloPort"] = PostgresServer.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Logging__Console__FormatterName"] = "simple",
            ["PortHistory__Auth__BootstrapTokenFile"] = _tokenFile,
            // Quick checkpoints and deliveries, so that tests see sightings promptly.
            ["PortHistory__Verdicts__CheckpointInterval"] = "00:00:01",
            ["PortHistory__Sightings__DispatchWindow"] = "00:00:00.100",
            // Every test process calls from loopback, one address: lookups of new tokens are not what most tests measure.
            ["PortHistory__RateLimit__FailedAuthenticationBurst"] = "100000",
            // Server-side imports read the shared registry editions.
            ["PortHistory__Import__ImportDirectory"] = RegistryData.Directory,
            // This machine has no internet: tests that follow a registry serve one themselves.
            ["PortHistory__Follow__Enabled"] = "false",
        };
        if (certificate is not null)
        {
            var password = Guid.NewGuid().ToString("N");
            _certificateFile = Path.Combine(Path.GetTempPath(), $"porthistory-tls-{Guid.NewGuid():N}.pfx");
            File.WriteAllBytes(_certificateFile, certificate.Export(X509ContentType.Pkcs12, password));
            _environment["Kestrel__Endpoints__Grpc__Certificate__Path"] = _certificateFile;
            _environment["Kestrel__Endpoints__Grpc__Certificate__Password"] = password;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) _environment[key] = value;
        Channel = ChannelWith(() => AdminToken);
        AnonymousChannel = GrpcChannel.ForAddress(Address, new GrpcChannelOptions { MaxReceiveMessageSize = 64 * 1024 * 1024, HttpHandler = Handler(), DisposeHttpClient = true });
    }

    /// <summary>
    /// The runtime's settings for every server this process starts (a server's own settings win). Test servers live too
    /// short for tiered PGO's instrumented code to pay for itself (docs/testing.md has what turning it off saved).
    /// Benchmarks measure servers long warmed up, as they run in production, and clear these.
    /// </summary>
    public static Dictionary<string, string> RuntimeSettings { get; } = new() { ["DOTNET_TieredPGO"] = "0" };

    /// <summary>How many TLS handshakes this process's channels made in which the server presented the configured certificate.</summary>
    public int CertificatesPresented => _certificatesPresented;

    /// <summary>The bootstrap admin token the server wrote at its first start.</summary>
    public string AdminToken => _adminToken ??= File.ReadAllText(_tokenFile).Trim();

    /// <summary>The file the server keeps its bootstrap admin token in.</summary>
    public string AdminTokenFile => _tokenFile;

    /// <summary>A channel whose calls carry no token.</summary>
    public GrpcChannel AnonymousChannel { get; }

    /// <summary>A channel whose every call carries "authorization: Bearer &lt;token&gt;".</summary>
    public GrpcChannel ChannelWith(Func<string> token) => GrpcChannel.ForAddress(Address, new GrpcChannelOptions
    {
        MaxReceiveMessageSize = 64 * 1024 * 1024,
        HttpHandler = Handler(),
        DisposeHttpClient = true,
        Credentials = Grpc.Core.ChannelCredentials.Create(_certificate is null ? Grpc.Core.ChannelCredentials.Insecure : Grpc.Core.ChannelCredentials.SecureSsl,
            Grpc.Core.CallCredentials.FromInterceptor((_, metadata) =>
            {
                metadata.Add("authorization", $"Bearer {token()}");
                return Task.CompletedTask;
            })),
        UnsafeUseInsecureChannelCallCredentials = _certificate is null,
    });

    public int GrpcPort { get; }

    public string Address { get; }

    /// <summary>The HTTP/1.1 and HTTP/2 endpoint of the HTTP/JSON API (cleartext).</summary>
    public string HttpAddress { get; }
    /// <summary>The Prometheus scrape endpoint (cleartext HTTP/1.1); the metrics are at /metrics.</summary>
    public string MetricsAddress { get; }

    /// <summary>Cleartext: the channel's own handler. Over TLS, the server must present the configured certificate; nothing else is trusted.</summary>
    private SocketsHttpHandler? Handler()
    {
        if (_certificate is not { } expected) return null;
        var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) =>
        {
            var same = presented is not null && presented.GetCertHashString() == expected.GetCertHashString();
            if (same) Interlocked.Increment(ref _certificatesPresented);
            return same;
        };
        return handler;
    }

    public GrpcChannel Channel { get; }

    public int? ProcessId => _process?.Id;

    /// <summary>The port of the silo's cluster endpoint, as the membership table lists it.</summary>
    public int SiloPort => int.Parse(_environment["PortHistory__Silo__SiloPort"], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The server's warnings and errors so far (each with the lines that follow it), for failure messages.</summary>
    public string Problems
    {
        get
        {
            var lines = new List<string>();
            var keep = false;
            foreach (var line in _log)
            {
                if (!line.StartsWith(' ')) keep = line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal);
                if (keep && lines.Count < 400) lines.Add(line);
            }

            return string.Join('\n', lines);
        }
    }

    /// <summary>The server's console output so far, for failure messages.</summary>
    public string Log => string.Join('\n', _log.TakeLast(200));

    /// <summary>The lines of the whole console output so far that contain <paramref name="text"/>.</summary>
    public IReadOnlyList<string> LogLines(string text) => [.. _log.Where(l => l.Contains(text, StringComparison.Ordinal))];

    /// <summary>Starts the process and waits until grpc.health.v1 says SERVING.</summary>
    public async Task StartAsync(TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo("dotnet", $"\"{_serverAssembly ?? ServerAssembly}\"")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in RuntimeSettings.Concat(_environment)) start.Environment[key] = value;
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) _log.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _log.Enqueue(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitUntilServingAsync(timeout ?? TimeSpan.FromSeconds(90));
    }

    public async Task WaitUntilServingAsync(TimeSpan timeout)
    {
        var health = new Health.HealthClient(AnonymousChannel);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process is { HasExited: true }) throw new InvalidOperationException($"the server exited with {_process.ExitCode}:\n{Log}");
            try
            {
                var reply = await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
                if (reply.Status == HealthCheckResponse.Types.ServingStatus.Serving) return;
            }
            catch (Grpc.Core.RpcException)
            {
                // Not listening yet.
            }

            if (clock.Elapsed > timeout) throw new TimeoutException($"the server was not SERVING after {timeout}:\n{Log}");
            await Task.Delay(100);
        }
    }

    /// <summary>SIGKILL: no shutdown hooks run, as in a crash.</summary>
    public async Task KillAsync()
    {
        if (_process is null || _process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited) return;
        // SIGTERM: the graceful shutdown a service manager does.
        Process.Start("kill", $"-TERM {_process.Id}")?.WaitForExit();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        Channel.Dispose();
        AnonymousChannel.Dispose();
        _process?.Dispose();
        File.Delete(_tokenFile);
        if (_certificateFile is not null) File.Delete(_certificateFile);
    }

    /// <summary>The server built in the same configuration as the tests (dotnet test builds the whole solution).</summary>
    private static string ServerAssembly => BuiltAssembly("PortHistory.Server", "PortHistory.Server.dll");

    /// <summary>
    /// A project's own build output, in the configuration the tests run in. Tools are run from there: the copies next
    /// to the tests resolve the tests' dependency versions, not their own.
    /// </summary>
    public static string BuiltAssembly(string project, string assembly)
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
            ? "Release"
            : "Debug";
        var path = Path.Combine(RegistryData.RepositoryRoot, "src", project, "bin", configuration, "net10.0", assembly);
        return File.Exists(path) ? path : throw new FileNotFoundException($"build {project} first: {path} is missing");
    }
}
