using Npgsql;
using PortHistory.Testing;

namespace PortHistory.Benchmarks;

/// <summary>The server's and PostgreSQL's counters at one moment; a phase's cost is the difference of two.</summary>
internal sealed record FleetReading(DateTime At, double CpuSeconds, long HostRows, long AllRows, long WalBytes, long HostTableBytes);

/// <summary>
/// Reads what a phase cost: the server's CPU time (/proc/PID/stat, added up over the processes of a run, since a
/// killed one takes its counters with it), rows inserted and updated (pg_stat_user_tables: the host tables
/// hosts, listener_changes and sighting_journal, and all tables), WAL written, and the host tables' size.
/// </summary>
internal sealed class FleetMeter(ServerProcess server, string connectionString)
{
    private const string HostTables = "('hosts', 'host_seen_pages', 'listener_changes', 'sighting_journal')";
    private double _cpuOfEarlierProcesses;
    private double _cpuOfThisProcess;
    private int? _pid;

    /// <summary>The server's CPU seconds so far; read it just before a kill, so that the killed process's share is kept.</summary>
    public double CpuSeconds()
    {
        var pid = server.ProcessId;
        if (pid != _pid)
        {
            _cpuOfEarlierProcesses += _cpuOfThisProcess;
            _cpuOfThisProcess = 0;
            _pid = pid;
        }

        try
        {
            if (pid is { } id) _cpuOfThisProcess = ServerBenchmark.CpuSeconds(id);
        }
        catch (IOException)
        {
            // The process is gone: its last reading stands.
        }

        return _cpuOfEarlierProcesses + _cpuOfThisProcess;
    }

    public long ResidentBytes() => server.ProcessId is { } pid ? ServerBenchmark.ResidentBytes(pid) : 0;

    /// <summary>Rows inserted and updated so far, per table (partitions under their own names).</summary>
    public async Task<Dictionary<string, long>> RowsByTableAsync()
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT relname, n_tup_ins + n_tup_upd FROM pg_stat_user_tables", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<string, long>();
        while (await reader.ReadAsync()) rows[reader.GetString(0)] = reader.GetInt64(1);
        return rows;
    }

    public async Task<FleetReading> ReadAsync()
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"""
            SELECT coalesce(sum(n_tup_ins + n_tup_upd) FILTER (WHERE relname IN {HostTables}), 0)::bigint,
                   coalesce(sum(n_tup_ins + n_tup_upd), 0)::bigint,
                   pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint,
                   coalesce(sum(pg_total_relation_size(relid)) FILTER (WHERE relname IN {HostTables}), 0)::bigint
            FROM pg_stat_user_tables
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new FleetReading(DateTime.UtcNow, CpuSeconds(), reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
    }
}

/// <summary>A phase's cost per host, extrapolated to a minute (CPU) and a day (rows, bytes).</summary>
internal sealed record FleetCost(double Seconds, double CpuSecondsPerHostMinute, double HostRowsPerHostDay, double AllRowsPerHostDay,
    double WalBytesPerHostDay, double TableBytesPerHostDay)
{
    public static FleetCost Between(FleetReading from, FleetReading to, int hosts)
    {
        var seconds = (to.At - from.At).TotalSeconds;
        var days = seconds / 86400;
        return new FleetCost(seconds, (to.CpuSeconds - from.CpuSeconds) / hosts / (seconds / 60), (to.HostRows - from.HostRows) / days / hosts,
            (to.AllRows - from.AllRows) / days / hosts, (to.WalBytes - from.WalBytes) / days / hosts, (to.HostTableBytes - from.HostTableBytes) / days / hosts);
    }
}
