using System.Diagnostics;

namespace PortHistory.Testing;

/// <summary>
/// A real PostgreSQL for tests: initdb and pg_ctl in a temporary directory, on a free port, stopped and removed on
/// dispose. initdb and postgres refuse to run as root, so as root they run as the "postgres" user via runuser.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _root;
    private readonly string _data;
    private readonly string _socket;
    private readonly string _log;

    private PostgresServer(string bin, string root, int port)
    {
        _bin = bin;
        _root = root;
        _data = Path.Combine(root, "data");
        _socket = Path.Combine(root, "sock");
        _log = Path.Combine(root, "postgres.log");
        Port = port;
    }

    public int Port { get; }

    /// <summary>A connection string as the server is given one: Npgsql's own 15 s to open a connection (a busy machine can take seconds to start a backend).</summary>
    public string ConnectionString(string database, int maxPoolSize = 64) =>
        $"Host=127.0.0.1;Port={Port};Database={database};Username=postgres;Maximum Pool Size={maxPoolSize};Timeout=15;Command Timeout=60";

    public static async Task<PostgresServer> StartAsync()
    {
        var bin = FindBinaries();
        var root = Directory.CreateTempSubdirectory("porthistory-pg-").FullName;
        var server = new PostgresServer(bin, root, FreePort());
        Directory.CreateDirectory(server._data);
        Directory.CreateDirectory(server._socket);
        await File.WriteAllTextAsync(server._log, "");
        if (IsRoot)
        {
            await RunAsync("chown", $"-R postgres:postgres {root}");
            await RunAsync("chmod", $"700 {server._data}");
        }

        await server.PostgresToolAsync("initdb", $"-D {server._data} -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync");
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>
    /// Starts (again) the server on the same port and data: used to bring a database back after an outage. Room for
    /// many connections: a test collection keeps several server processes alive, each pooling up to 64 connections
    /// for PortHistory and as many for Orleans storage.
    /// </summary>
    public Task StartAgainAsync() =>
        PostgresToolAsync("pg_ctl", $"-D {_data} -l {_log} -w -t 60 -o \"-p {Port} -c listen_addresses=127.0.0.1 -k {_socket} -c max_connections=1000 -c fsync=on\" start");

    /// <summary>Stops the server at once, as a crash or an outage would.</summary>
    public Task StopAsync() => PostgresToolAsync("pg_ctl", $"-D {_data} -w -t 60 -m immediate stop");

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private readonly Dictionary<string, Task> _templates = [];

    /// <summary>Each template's dump, made by the first PostgreSQL of the process to fill it.</summary>
    private static readonly Dictionary<string, Task<string>> TemplateDumps = [];

    private static readonly Lazy<Task<string>> DumpDirectory = new(CreateDumpDirectoryAsync);

    private static async Task<string> CreateDumpDirectoryAsync()
    {
        var directory = Directory.CreateTempSubdirectory("porthistory-pg-templates-").FullName;
        if (IsRoot) await RunAsync("chown", $"postgres:postgres {directory}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        };
        return directory;
    }

    /// <summary>
    /// Creates <paramref name="database"/> as a copy of <paramref name="template"/>, which <paramref name="prepare"/>
    /// fills (given its connection string, and leaving no connection open) the first time the template is named in the
    /// process; another PostgreSQL of the process restores the first one's dump of it. A copy takes a fraction of a
    /// second and a restore a few, where filling (an import that stages every port of an IANA file) takes a minute.
    /// </summary>
    public async Task CreateDatabaseAsync(string database, string template, Func<string, Task> prepare)
    {
        Task prepared;
        lock (_templates)
        {
            if (!_templates.TryGetValue(template, out prepared!)) _templates[template] = prepared = PrepareTemplateAsync(template, prepare);
        }

        await prepared;
        await ExecuteAsync($"CREATE DATABASE \"{database}\" TEMPLATE \"{template}\"");
    }

    private async Task PrepareTemplateAsync(string template, Func<string, Task> prepare)
    {
        TaskCompletionSource<string>? filling = null;
        Task<string> dump;
        lock (TemplateDumps)
        {
            if (!TemplateDumps.TryGetValue(template, out dump!))
            {
                filling = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
                TemplateDumps[template] = dump = filling.Task;
            }
        }

        if (filling is null)
        {
            var file = await dump;
            await ExecuteAsync($"CREATE DATABASE \"{template}\"");
            await PostgresToolAsync("pg_restore", $"-h 127.0.0.1 -p {Port} -U postgres -d {template} {file}");
            return;
        }

        try
        {
            await prepare(ConnectionString(template));
            var file = Path.Combine(await DumpDirectory.Value, $"{template}.dump");
            await PostgresToolAsync("pg_dump", $"-h 127.0.0.1 -p {Port} -U postgres -Fc -Z1 -f {file} {template}");
            filling.SetResult(file);
        }
        catch (Exception e)
        {
            filling.SetException(e);
            throw;
        }
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A port for a server to bind, handed out once (<see cref="TestPorts"/>).</summary>
    public static int FreePort() => TestPorts.Next();

    private static bool IsRoot => Environment.UserName == "root";

    private Task PostgresToolAsync(string tool, string arguments) =>
        IsRoot ? RunAsync("runuser", $"-u postgres -- {Path.Combine(_bin, tool)} {arguments}") : RunAsync(Path.Combine(_bin, tool), arguments);

    private static string FindBinaries()
    {
        var configured = Environment.GetEnvironmentVariable("PORTHISTORY_PG_BIN");
        if (!string.IsNullOrEmpty(configured)) return configured;
        var installed = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => d, StringComparer.Ordinal).FirstOrDefault()
            : null;
        return installed ?? throw new InvalidOperationException(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (apt-get install postgresql), or set PORTHISTORY_PG_BIN");
    }

    private static async Task RunAsync(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {arguments} exited with {process.ExitCode}: {await error}{await output}");
        }
    }
}
