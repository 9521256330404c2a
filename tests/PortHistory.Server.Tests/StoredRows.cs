using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using PortHistory.Grains.Abstractions;
using PortHistory.Server.Persistence.Database;
using PortHistory.Server.Persistence.Hosts;

namespace PortHistory.Server.Tests;

/// <summary>For tests of the stores on a real PostgreSQL: a migrated database of their own, host rows written directly, and reads.</summary>
internal static class StoredRows
{
    public static async Task<NpgsqlDataSource> MigratedDatabaseAsync(this PostgresFixture fixture, string name)
    {
        var connectionString = fixture.Postgres.ConnectionString(name);
        await using (var migrating = NpgsqlDataSource.Create(connectionString))
        {
            await new SchemaMigrator(migrating, NullLogger<SchemaMigrator>.Instance).MigrateAsync(CancellationToken.None);
        }

        return NpgsqlDataSource.Create(connectionString);
    }

    /// <summary>A host row as the journal writes one: online (or <paramref name="state"/>) since <paramref name="stateSince"/>.</summary>
    public static async Task AddHostAsync(this NpgsqlDataSource database, string host, DateTime stateSince, DateTime firstSeen, DateTime lastSeen,
        HostState state = HostState.Online, params HostSocketEntry[] sockets)
    {
        await using var insert = database.CreateCommand("""
            INSERT INTO hosts (host_ref, host_hash, version, state, state_since, epoch_id, epoch_started_at, seq, set_hash, sockets, socket_count, host_group,
                agent_version, privileged, dropped_reports, dropped_bytes, first_seen, last_seen)
            VALUES (@host, 0, 1, @state, @since, 1, @first, 1, '\x00', @sockets, @count, '', '2.0.0', true, 0, 0, @first, @last)
            """);
        insert.Parameters.AddWithValue("host", host);
        insert.Parameters.AddWithValue("state", (short)state);
        insert.Parameters.AddWithValue("since", stateSince);
        insert.Parameters.AddWithValue("first", firstSeen);
        insert.Parameters.AddWithValue("last", lastSeen);
        insert.Parameters.AddWithValue("sockets", HostSocketCodec.Encode(sockets));
        insert.Parameters.AddWithValue("count", sockets.Length);
        await insert.ExecuteNonQueryAsync();
    }

    /// <summary>The first column of the first row; default when there is none or it is null.</summary>
    public static async Task<T> ScalarAsync<T>(this NpgsqlDataSource database, string sql)
    {
        await using var command = database.CreateCommand(sql);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull or null ? default! : (T)value;
    }

    /// <summary>Every row, its values joined by '/'.</summary>
    public static async Task<List<string>> RowsAsync(this NpgsqlDataSource database, string sql)
    {
        await using var command = database.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync()) rows.Add(string.Join('/', Enumerable.Range(0, reader.FieldCount).Select(reader.GetValue)));
        return rows;
    }
}
