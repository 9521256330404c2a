using Npgsql;

namespace PortHistory.Benchmarks;

/// <summary>
/// What the usage tables hold, and what one row of the sighting journal and of the listener changes costs: copies of
/// the real tables (same columns, keys and indexes) filled with rows like the server's, their size over their rows.
/// </summary>
internal static class UsageStorage
{
    private const int SampleRows = 200_000;

    public sealed record UsageBytes(long Days, long Months, long Lifetimes, long DayRows, long MonthRows)
    {
        public long Total => Days + Months + Lifetimes;
    }

    public static async Task<UsageBytes> MeasureAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await Execute(connection, "VACUUM ANALYZE usage_days, usage_months, usage_lifetimes");
        var days = await Scalar(connection, """
            SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)::bigint FROM pg_inherits i WHERE i.inhparent = 'usage_days'::regclass
            """);
        return new UsageBytes(days, await Scalar(connection, "SELECT pg_total_relation_size('usage_months')"),
            await Scalar(connection, "SELECT pg_total_relation_size('usage_lifetimes')"),
            await Scalar(connection, "SELECT count(*) FROM usage_days"), await Scalar(connection, "SELECT count(*) FROM usage_months"));
    }

    /// <summary>Vacuums and analyses the usage tables and the processes dictionary.</summary>
    public static async Task SettleAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await Execute(connection, "VACUUM ANALYZE usage_days, usage_months, usage_lifetimes, usage_fleet_days, processes");
    }

    /// <summary>Bytes per row of sighting_journal (a full report's sighting) and of listener_changes, with their indexes.</summary>
    public static async Task<(double Sighting, double Change)> RowBytesAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await Execute(connection, $"""
            CREATE TABLE sighting_rows_sample (LIKE sighting_journal INCLUDING ALL);
            INSERT INTO sighting_rows_sample
            SELECT 1, i, 1 + (i * 7919) % 60000, 1, (i % 10000) * 2654435761, 'host-' || lpad((i % 10000)::text, 5, '0') || '.fleet.example', now(),
                   2, CASE WHEN i % 3 = 0 THEN '127.0.0.1' ELSE '0.0.0.0' END, CASE WHEN i % 3 = 0 THEN 1 ELSE 3 END, 10,
                   'svc' || (i % 30), '/opt/svc' || (i % 30) || '/' || (i % 10000) || '/1/bin/svc' || (i % 30), 1000 + i % 30000,
                   CASE WHEN i % 2 = 0 THEN 'root' ELSE 'svc' END, i % 2 = 0, '', '', gen_random_uuid()
            FROM generate_series(1, {SampleRows}) i;
            CREATE TABLE change_rows_sample (LIKE listener_changes INCLUDING ALL);
            INSERT INTO change_rows_sample
            SELECT 1, i, 1 + (i * 7919) % 60000, 1, i % 10000, 1 + i % 2, i % 3 <> 0, 1, now(), 'default'
            FROM generate_series(1, {SampleRows}) i;
            """);
        await Execute(connection, "VACUUM ANALYZE sighting_rows_sample, change_rows_sample");
        var sighting = await Scalar(connection, "SELECT pg_total_relation_size('sighting_rows_sample')");
        var change = await Scalar(connection, "SELECT pg_total_relation_size('change_rows_sample')");
        await Execute(connection, "DROP TABLE sighting_rows_sample, change_rows_sample");
        return ((double)sighting / SampleRows, (double)change / SampleRows);
    }

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> Scalar(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
