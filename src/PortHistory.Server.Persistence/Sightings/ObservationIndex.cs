using System.Data;
using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Observations;
using PortHistory.Registry.Model;
using PortHistory.Server.Application.Sightings;
using PortHistory.Server.Persistence.Database;

namespace PortHistory.Server.Persistence.Sightings;

/// <summary>
/// Fleet-wide discrepancies without activating grains: observed ports from the index the port grains write when they
/// checkpoint, and ghosts (assigned now, never observed) from the registry index, in one snapshot.
/// </summary>
public sealed class ObservationIndex(NpgsqlDataSource dataSource) : IObservationIndex
{
    public async Task<IReadOnlyList<Discrepancy>> DiscrepanciesAsync(IReadOnlySet<VerdictKind> kinds, PortSpan range, Transport transport,
        long reportingHosts, VerdictOptions options, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        var found = new List<Discrepancy>();
        var observed = new HashSet<(int, Transport)>();
        await using (var command = new NpgsqlCommand("""
            SELECT port, transport, verdict, reason, assigned_service, observed, hosts, sightings FROM port_observations
            WHERE port BETWEEN @lo AND @hi AND (@transport = 0 OR transport = @transport)
            ORDER BY port, transport
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("lo", range.First);
            command.Parameters.AddWithValue("hi", range.Last);
            command.Parameters.AddWithValue("transport", (short)transport);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var port = reader.GetInt32(0);
                var t = (Transport)reader.GetInt16(1);
                observed.Add((port, t));
                var kind = (VerdictKind)reader.GetInt16(2);
                if (!kinds.Contains(kind)) continue;
                var verdict = new Verdict { Transport = t, Kind = kind, Reason = reader.GetString(3), AssignedService = reader.IsDBNull(4) ? "" : reader.GetString(4) };
                verdict.ObservedProcesses.AddRange(reader.GetFieldValue<string[]>(5));
                found.Add(new Discrepancy { Port = (uint)port, Verdict = verdict, Hosts = (ulong)reader.GetInt64(6), Sightings = (ulong)reader.GetInt64(7) });
            }
        }

        if (kinds.Contains(VerdictKind.Ghost) && reportingHosts >= options.MinReportingHosts)
        {
            await using var command = new NpgsqlCommand("""
                SELECT transport, port_first, port_last, version FROM index_versions
                WHERE status = 1 AND port_last >= @lo AND port_first <= @hi AND port_first < @dynamic AND (@transport = 0 OR transport = @transport)
                  AND from_rank <= (SELECT max(rank) FROM editions WHERE status = 'complete')
                  AND through_rank >= (SELECT max(rank) FROM editions WHERE status = 'complete')
                """, connection, transaction);
            command.Parameters.AddWithValue("lo", range.First);
            command.Parameters.AddWithValue("hi", range.Last);
            command.Parameters.AddWithValue("dynamic", VerdictOptions.FirstDynamicPort);
            command.Parameters.AddWithValue("transport", (short)transport);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var t = (Transport)reader.GetInt16(0);
                var version = TimelineVersion.Parser.ParseFrom(reader.GetFieldValue<byte[]>(3));
                var primary = version.Records[0];
                var service = primary.ServiceName.Length > 0 ? primary.ServiceName : $"\"{primary.Description}\"";
                var last = Math.Min(reader.GetInt32(2), Math.Min(range.Last, VerdictOptions.FirstDynamicPort - 1));
                for (var port = Math.Max(reader.GetInt32(1), range.First); port <= last; port++)
                {
                    if (observed.Contains((port, t))) continue;
                    found.Add(new Discrepancy
                    {
                        Port = (uint)port,
                        Verdict = new Verdict
                        {
                            Transport = t,
                            Kind = VerdictKind.Ghost,
                            AssignedService = service,
                            Reason = $"assigned to {service} (since {version.From.Id}), but none of the {reportingHosts} reporting hosts runs anything on it",
                        },
                    });
                }
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return [.. found.OrderBy(d => d.Port).ThenBy(d => d.Verdict.Transport)];
    }

    /// <summary>Ports with observations: after a registry change their verdicts are recomputed.</summary>
    public async Task<IReadOnlyList<int>> ObservedPortsAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT DISTINCT port FROM port_observations ORDER BY port");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var ports = new List<int>();
        while (await reader.ReadAsync(cancellationToken)) ports.Add(reader.GetInt32(0));
        return ports;
    }

}
