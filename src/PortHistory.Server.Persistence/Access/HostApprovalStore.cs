using Npgsql;
using PortHistory.Server.Application.Access;

namespace PortHistory.Server.Persistence.Access;

/// <summary>The enrollment_hosts table: host refs approved for enrollment, and the ones waiting for an admin.</summary>
public sealed class HostApprovalStore(NpgsqlDataSource dataSource) : IHostApprovals
{
    public async Task<bool> IsApprovedAsync(string hostRef, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT coalesce((SELECT approved FROM enrollment_hosts WHERE host_ref = @host), false)");
        command.Parameters.AddWithValue("host", hostRef);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task RecordRequestAsync(string hostRef, string requestedBy, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO enrollment_hosts (host_ref, approved, requested_at, requested_by) VALUES (@host, false, now(), @by)
            ON CONFLICT (host_ref) DO NOTHING
            """);
        command.Parameters.AddWithValue("host", hostRef);
        command.Parameters.AddWithValue("by", requestedBy);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<int> ApproveAsync(IReadOnlyCollection<string> hostRefs, string approvedBy, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO enrollment_hosts (host_ref, approved, approved_at, approved_by)
            SELECT h, true, now(), @by FROM unnest(@hosts) AS h
            ON CONFLICT (host_ref) DO UPDATE SET approved = true, approved_at = now(), approved_by = @by WHERE NOT enrollment_hosts.approved
            """);
        command.Parameters.AddWithValue("hosts", hostRefs.ToArray());
        command.Parameters.AddWithValue("by", approvedBy);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<HostApproval>> ListAsync(int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT host_ref, approved, requested_at, requested_by, approved_at, approved_by FROM enrollment_hosts
            ORDER BY approved, coalesce(requested_at, approved_at), host_ref LIMIT @limit
            """);
        command.Parameters.AddWithValue("limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var hosts = new List<HostApproval>();
        while (await reader.ReadAsync(cancellationToken))
        {
            hosts.Add(new HostApproval(reader.GetString(0), reader.GetBoolean(1), reader.IsDBNull(2) ? null : reader.GetDateTime(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetDateTime(4), reader.IsDBNull(5) ? null : reader.GetString(5)));
        }

        return hosts;
    }
}
