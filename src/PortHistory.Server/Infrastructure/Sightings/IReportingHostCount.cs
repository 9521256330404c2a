using Npgsql;

namespace PortHistory.Server.Infrastructure.Sightings;

/// <summary>The fleet's reporting hosts: every host that has reported anything, on any silo.</summary>
public interface IReportingHostCount
{
    Task<long> CountAsync(CancellationToken cancellationToken);
}

public sealed class PostgresReportingHostCount(NpgsqlDataSource dataSource) : IReportingHostCount
{
    public async Task<long> CountAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM reporting_hosts");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
