using Npgsql;
using PortHistory.Server.Application.Sightings;

namespace PortHistory.Server.Persistence.Sightings;

public sealed class PostgresReportingHostCount(NpgsqlDataSource dataSource) : IReportingHostCount
{
    public async Task<long> CountAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM reporting_hosts");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
