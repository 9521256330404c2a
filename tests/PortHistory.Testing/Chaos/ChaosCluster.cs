using Npgsql;
using PortHistory.Contracts.V1;

namespace PortHistory.Testing.Chaos;

/// <summary>
/// Three silos of one cluster as processes on loopback, on a PostgreSQL of their own reached through a
/// <see cref="PostgresProxy"/>, with the gateways a load balancer would offer: a gateway leaves the list before its
/// silo is stopped on purpose, and comes back once its successor serves.
/// </summary>
public sealed class ChaosCluster : IAsyncDisposable
{
    private const string Database = "chaos";
    /// <summary>Orleans' SiloStatus.Dead, as its membership table stores it.</summary>
    private const int DeadStatus = 6;
    private readonly List<ServerProcess> _silos = [];
    private readonly List<ServerProcess> _offered = [];
    private readonly Dictionary<ServerProcess, int> _calling = [];
    private readonly Dictionary<ServerProcess, Grpc.Net.Client.GrpcChannel> _agentChannels = [];
    private readonly Dictionary<string, string> _settings;

    private ChaosCluster(PostgresServer postgres, PostgresProxy proxy, Dictionary<string, string> settings)
    {
        Postgres = postgres;
        Proxy = proxy;
        _settings = settings;
        Sql = NpgsqlDataSource.Create(postgres.ConnectionString(Database));
    }

    public PostgresServer Postgres { get; }

    public PostgresProxy Proxy { get; }

    /// <summary>Straight to PostgreSQL (not through the relay): for checks and for faults made from outside.</summary>
    public NpgsqlDataSource Sql { get; }

    public IReadOnlyList<ServerProcess> Silos => _silos;

    /// <summary>A token with the agent role.</summary>
    public string AgentToken { get; private set; } = "";

    /// <param name="settings">Server settings for every silo, beyond those that make them one cluster.</param>
    public static async Task<ChaosCluster> StartAsync(int silos = 3, IReadOnlyDictionary<string, string>? settings = null)
    {
        var postgres = await PostgresServer.StartAsync();
        var proxy = new PostgresProxy(postgres.Port);
        var all = new Dictionary<string, string>
        {
            ["PortHistory__Silo__Clustering"] = "AdoNet",
            ["PortHistory__Silo__ClusterId"] = "chaos",
            // Cluster TLS has tests of its own; these silos share loopback only.
            ["PortHistory__Silo__AllowInsecureCluster"] = "true",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) all[key] = value;
        var cluster = new ChaosCluster(postgres, proxy, all);
        try
        {
            // The first silo creates the schema; the others join it together.
            await cluster.AddSiloAsync();
            await Task.WhenAll(Enumerable.Range(1, silos - 1).Select(_ => cluster.AddSiloAsync()));
            var access = new AccessAdmin.AccessAdminClient(cluster._silos[0].Channel);
            cluster.AgentToken = (await access.IssueTokenAsync(new IssueTokenRequest { Name = "chaos agents", Role = Role.Agent })).Token;
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>A gateway the load balancer offers now, chosen at random, for one call; dispose when the call is over.</summary>
    public GatewayCall PickGateway(ServerProcess? except = null)
    {
        lock (_offered)
        {
            var choices = _offered.Where(s => s != except).ToList();
            var silo = choices[Random.Shared.Next(choices.Count)];
            _calling[silo] = _calling.GetValueOrDefault(silo) + 1;
            return new GatewayCall(this, silo);
        }
    }

    /// <summary>Stops offering a gateway (its silo is about to be stopped, or is dead and its health checks fail).</summary>
    public void Withdraw(ServerProcess silo)
    {
        lock (_offered) _offered.Remove(silo);
    }

    private void Done(ServerProcess silo)
    {
        lock (_offered) _calling[silo]--;
    }

    private int Calling(ServerProcess silo)
    {
        lock (_offered) return _calling.GetValueOrDefault(silo);
    }

    /// <summary>A channel of a gateway with the agent token, kept for the gateway's life.</summary>
    public Grpc.Net.Client.GrpcChannel AgentChannel(ServerProcess silo)
    {
        lock (_agentChannels)
        {
            if (!_agentChannels.TryGetValue(silo, out var channel)) _agentChannels[silo] = channel = silo.ChannelWith(() => AgentToken);
            return channel;
        }
    }

    /// <summary>One call's use of a gateway: while any is under way, a withdrawn gateway is not stopped.</summary>
    public readonly struct GatewayCall(ChaosCluster cluster, ServerProcess silo) : IDisposable
    {
        public ServerProcess Silo => silo;

        public void Dispose() => cluster.Done(silo);
    }

    /// <summary>SIGKILL, as a crash: the silo's gateway stays offered until the caller withdraws it.</summary>
    public Task KillAsync(int index) => _silos[index].KillAsync();

    /// <summary>
    /// When the cluster's membership table first showed <paramref name="silo"/> dead (polled every 50 ms): the moment
    /// the survivors' failure detection agreed, from which on PortHistory can act on its death.
    /// </summary>
    public async Task<DateTime> DeclaredDeadAsync(ServerProcess silo, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            await using (var command = Sql.CreateCommand("SELECT count(*) FROM orleansmembershiptable WHERE deploymentid = $1 AND port = $2 AND status = $3"))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = _settings["PortHistory__Silo__ClusterId"] });
                command.Parameters.Add(new NpgsqlParameter { Value = silo.SiloPort });
                command.Parameters.Add(new NpgsqlParameter { Value = DeadStatus });
                if ((long)(await command.ExecuteScalarAsync())! > 0) return DateTime.UtcNow;
            }

            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the cluster did not declare the silo on port {silo.SiloPort} dead within {timeout.TotalSeconds:0} s");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Replaces silo <paramref name="index"/> by a new process, offered once it serves. A live silo is withdrawn,
    /// its calls under way are let finish, and it is stopped with SIGTERM, as a rolling update does.
    /// </summary>
    /// <param name="settings">Settings of the new silo beyond the cluster's.</param>
    public async Task ReplaceAsync(int index, IReadOnlyDictionary<string, string>? settings = null)
    {
        var old = _silos[index];
        Withdraw(old);
        await Eventually.Async(() => Task.FromResult(Calling(old)), n => n == 0, TimeSpan.FromSeconds(60));
        await old.StopAsync();
        lock (_agentChannels)
        {
            if (_agentChannels.Remove(old, out var channel)) channel.Dispose();
        }

        await old.DisposeAsync();
        var own = new Dictionary<string, string>(_settings);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) own[key] = value;
        var next = new ServerProcess(Proxy.ConnectionString(Postgres, Database), own);
        _silos[index] = next;
        await next.StartAsync();
        lock (_offered) _offered.Add(next);
    }

    private async Task AddSiloAsync()
    {
        var silo = new ServerProcess(Proxy.ConnectionString(Postgres, Database), _settings);
        lock (_silos) _silos.Add(silo);
        await silo.StartAsync();
        lock (_offered) _offered.Add(silo);
    }

    /// <summary>Every silo's warnings and errors, for failure messages.</summary>
    public string Problems => string.Join("\n", _silos.Select((s, i) => $"--- silo {i}\n{s.Problems}"));

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _agentChannels.Values) channel.Dispose();
        foreach (var silo in _silos) await silo.DisposeAsync();
        await Sql.DisposeAsync();
        await Proxy.DisposeAsync();
        await Postgres.DisposeAsync();
    }
}
