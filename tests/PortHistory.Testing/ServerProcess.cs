using System.Collections.Concurrent;
using System.Diagnostics;
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
    private string? _adminToken;

    public ServerProcess(string connectionString, IReadOnlyDictionary<string, string>? settings = null)
    {
        GrpcPort = PostgresServer.FreePort();
        _environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__PortHistory"] = connectionString,
            ["Kestrel__Endpoints__Grpc__Url"] = $"http://127.0.0.1:{GrpcPort}",
            ["PortHistory__Silo__SiloPort"] = PostgresServer.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PortHistory__Silo__GatewayPort"] = PostgresServer.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Logging__Console__FormatterName"] = "simple",
            ["PortHistory__Auth__BootstrapTokenFile"] = _tokenFile,
            // Quick checkpoints and deliveries, so that tests see sightings promptly.
            ["PortHistory__Verdicts__CheckpointInterval"] = "00:00:01",
            ["PortHistory__Sightings__DispatchWindow"] = "00:00:00.100",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) _environment[key] = value;
        Channel = ChannelWith(() => AdminToken);
        AnonymousChannel = GrpcChannel.ForAddress(Address, new GrpcChannelOptions { MaxReceiveMessageSize = 64 * 1024 * 1024 });
    }

    /// <summary>The bootstrap admin token the server wrote at its first start.</summary>
    public string AdminToken => _adminToken ??= File.ReadAllText(_tokenFile).Trim();

    /// <summary>A channel whose calls carry no token.</summary>
    public GrpcChannel AnonymousChannel { get; }

    /// <summary>A channel whose every call carries "authorization: Bearer &lt;token&gt;".</summary>
    public GrpcChannel ChannelWith(Func<string> token) => GrpcChannel.ForAddress(Address, new GrpcChannelOptions
    {
        MaxReceiveMessageSize = 64 * 1024 * 1024,
        Credentials = Grpc.Core.ChannelCredentials.Create(Grpc.Core.ChannelCredentials.Insecure,
            Grpc.Core.CallCredentials.FromInterceptor((_, metadata) =>
            {
                metadata.Add("authorization", $"Bearer {token()}");
                return Task.CompletedTask;
            })),
        UnsafeUseInsecureChannelCallCredentials = true,
    });

    public int GrpcPort { get; }

    public string Address => $"http://127.0.0.1:{GrpcPort}";

    public GrpcChannel Channel { get; }

    public int? ProcessId => _process?.Id;

    /// <summary>The server's console output so far, for failure messages.</summary>
    public string Log => string.Join('\n', _log.TakeLast(200));

    /// <summary>Starts the process and waits until grpc.health.v1 says SERVING.</summary>
    public async Task StartAsync(TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo("dotnet", $"\"{ServerAssembly}\"")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in _environment) start.Environment[key] = value;
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
    }

    /// <summary>The server built in the same configuration as the tests (dotnet test builds the whole solution).</summary>
    private static string ServerAssembly
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                ? "Release"
                : "Debug";
            var path = Path.Combine(RegistryData.RepositoryRoot, "src", "PortHistory.Server", "bin", configuration, "net10.0", "PortHistory.Server.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"build the server first: {path} is missing");
        }
    }
}
