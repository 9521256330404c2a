using Npgsql;
using NpgsqlTypes;
using PortHistory.Server.Application.Following;
using PortHistory.Server.Persistence.Database;

namespace PortHistory.Server.Persistence.Following;

/// <summary>
/// The follower's lease is a session advisory lock on a connection of its own (one follower in the cluster; when its
/// process dies the lock goes with the connection), and follow_sources is read and written on that connection.
/// </summary>
public sealed class FollowStore(NpgsqlDataSource dataSource) : IFollowStore
{
    private const int FollowLock = 0x666f6c6c; // "foll"

    public async Task<IFollowLease?> TryAcquireLeaseAsync(CancellationToken cancellationToken) =>
        await SessionLock.TryAcquireAsync(dataSource, FollowLock, "registry", cancellationToken) is { } held ? new FollowLease(held) : null;

    public async Task<IReadOnlyList<FollowState>> LoadAllAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await FollowLease.ReadAsync(connection, null, cancellationToken);
    }

    private sealed class FollowLease(SessionLock held) : IFollowLease
    {
        private const string Columns =
            "source, etag, last_modified, last_sha256, last_attempt_at, last_success_at, last_change_at, consecutive_failures, last_error, next_attempt_at";

        public async Task<bool> IsHeldAsync(CancellationToken cancellationToken)
        {
            try
            {
                await using var command = new NpgsqlCommand("SELECT 1", held.Connection);
                await command.ExecuteScalarAsync(cancellationToken);
                return true;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                return false;
            }
        }

        public async Task<FollowState> LoadAsync(string source, CancellationToken cancellationToken) =>
            (await ReadAsync(held.Connection, source, cancellationToken)).SingleOrDefault() ?? new FollowState(source);

        public async Task SaveAsync(FollowState state, CancellationToken cancellationToken)
        {
            await using var command = new NpgsqlCommand($"""
                INSERT INTO follow_sources ({Columns})
                VALUES (@source, @etag, @lastModified, @sha256, @attempt, @success, @change, @failures, @error, @next)
                ON CONFLICT (source) DO UPDATE SET etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified, last_sha256 = EXCLUDED.last_sha256,
                    last_attempt_at = EXCLUDED.last_attempt_at, last_success_at = EXCLUDED.last_success_at, last_change_at = EXCLUDED.last_change_at,
                    consecutive_failures = EXCLUDED.consecutive_failures, last_error = EXCLUDED.last_error, next_attempt_at = EXCLUDED.next_attempt_at
                """, held.Connection);
            command.Parameters.AddWithValue("source", state.Source);
            command.Parameters.Add(Text("etag", state.ETag));
            command.Parameters.Add(Text("lastModified", state.LastModified));
            command.Parameters.Add(Text("sha256", state.LastSha256));
            command.Parameters.Add(Time("attempt", state.LastAttemptAt));
            command.Parameters.Add(Time("success", state.LastSuccessAt));
            command.Parameters.Add(Time("change", state.LastChangeAt));
            command.Parameters.AddWithValue("failures", state.ConsecutiveFailures);
            command.Parameters.Add(Text("error", state.LastError));
            command.Parameters.Add(Time("next", state.NextAttemptAt));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        public ValueTask DisposeAsync() => held.DisposeAsync();

        public static async Task<IReadOnlyList<FollowState>> ReadAsync(NpgsqlConnection connection, string? source, CancellationToken cancellationToken)
        {
            await using var command = new NpgsqlCommand($"SELECT {Columns} FROM follow_sources WHERE @source IS NULL OR source = @source ORDER BY source", connection);
            command.Parameters.Add(Text("source", source));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var states = new List<FollowState>();
            while (await reader.ReadAsync(cancellationToken))
            {
                states.Add(new FollowState(reader.GetString(0), Nullable(reader, 1), Nullable(reader, 2), Nullable(reader, 3), At(reader, 4), At(reader, 5), At(reader, 6),
                    reader.GetInt32(7), Nullable(reader, 8), At(reader, 9)));
            }

            return states;
        }

        private static string? Nullable(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

        private static DateTimeOffset? At(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);

        private static NpgsqlParameter Text(string name, string? value) => new NpgsqlParameter<string?>(name, NpgsqlDbType.Text) { TypedValue = value };

        private static NpgsqlParameter Time(string name, DateTimeOffset? value) =>
            new NpgsqlParameter<DateTimeOffset?>(name, NpgsqlDbType.TimestampTz) { TypedValue = value?.ToUniversalTime() };
    }
}
