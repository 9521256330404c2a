using System.Data;
using System.Globalization;
using System.Runtime.CompilerServices;
using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;
using PortHistory.Registry.Protobuf;
using PortHistory.Server.Application.Registry;

namespace PortHistory.Server.Persistence.Registry;

/// <summary>
/// The cross-port reads over the query index in PostgreSQL (written by <see cref="QueryIndexWriter"/>). Every read
/// runs in one repeatable-read snapshot, so an answer never mixes two generations.
/// </summary>
public sealed class RegistryQueries(NpgsqlDataSource dataSource) : IRegistryQueries
{
    public async Task<FindServiceResponse> FindServiceAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        var response = new FindServiceResponse { Name = name };
        var open = new List<ServiceHolding>();
        await using (var command = new NpgsqlCommand("SELECT holding, open FROM index_holdings WHERE name_lower = @name ORDER BY ordinal", connection, transaction))
        {
            command.Parameters.AddWithValue("name", name.ToLowerInvariant());
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var holding = ServiceHolding.Parser.ParseFrom(reader.GetFieldValue<byte[]>(0));
                response.Holdings.Add(holding);
                if (reader.GetBoolean(1)) open.Add(holding);
            }
        }

        // A holding still held is stored without its end: it ends at the newest edition, whichever that is now.
        if (open.Count > 0 && await EditionResolution.ResolveAsync(connection, transaction, null, cancellationToken) is { } newest)
        {
            foreach (var holding in open) holding.Through = newest.Edition;
        }

        var links = new List<RenameLink>();
        await using (var command = new NpgsqlCommand("SELECT link FROM index_renames ORDER BY ordinal", connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken)) links.Add(RenameLink.Parser.ParseFrom(reader.GetFieldValue<byte[]>(0)));
        }

        response.Renames.AddRange(RenameChains.Follow(links.Select(l => l.ToDomain()), name).Select(l => l.ToProto()));
        await transaction.CommitAsync(cancellationToken);
        return response;
    }

    /// <summary>The differences between two committed editions (by id, or a date meaning the edition in effect then).</summary>
    public async Task<DiffEditionsResult> DiffAsync(string from, string to, PortSpan? ports, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        var before = await EditionResolution.ResolveAsync(connection, transaction, from, cancellationToken) ?? throw new UnknownEditionException("from_edition", from);
        var after = await EditionResolution.ResolveAsync(connection, transaction, to, cancellationToken) ?? throw new UnknownEditionException("to_edition", to);
        var range = ports ?? PortSpan.All;
        var diff = new DiffBuilder();
        await using (var command = new NpgsqlCommand("""
            WITH a AS (SELECT transport, port_first, port_last, state_key, version FROM index_versions
                       WHERE from_rank <= @ra AND through_rank >= @ra AND port_last >= @lo AND port_first <= @hi),
                 b AS (SELECT transport, port_first, port_last, state_key, version FROM index_versions
                       WHERE from_rank <= @rb AND through_rank >= @rb AND port_last >= @lo AND port_first <= @hi)
            SELECT coalesce(a.transport, b.transport), coalesce(a.port_first, b.port_first), coalesce(a.port_last, b.port_last),
                   a.version, b.version
            FROM a FULL JOIN b ON a.transport = b.transport AND a.port_first = b.port_first
            WHERE a.state_key IS DISTINCT FROM b.state_key
            ORDER BY 1, 2
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("ra", before.Rank);
            command.Parameters.AddWithValue("rb", after.Rank);
            command.Parameters.AddWithValue("lo", range.First);
            command.Parameters.AddWithValue("hi", range.Last);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var first = Math.Max(reader.GetInt32(1), range.First);
                var last = Math.Min(reader.GetInt32(2), range.Last);
                diff.AddSegment((TransportProtocol)reader.GetInt16(0), new PortSpan(first, last), Records(reader, 3), Records(reader, 4));
            }
        }

        if (ports is null)
        {
            await using var command = new NpgsqlCommand("""
                WITH a AS (SELECT transport, name_lower, state_key, version FROM index_name_only WHERE from_rank <= @ra AND through_rank >= @ra),
                     b AS (SELECT transport, name_lower, state_key, version FROM index_name_only WHERE from_rank <= @rb AND through_rank >= @rb)
                SELECT coalesce(a.transport, b.transport), a.version, b.version
                FROM a FULL JOIN b ON a.transport = b.transport AND a.name_lower = b.name_lower
                WHERE a.state_key IS DISTINCT FROM b.state_key
                ORDER BY 1, coalesce(a.name_lower, b.name_lower)
                """, connection, transaction);
            command.Parameters.AddWithValue("ra", before.Rank);
            command.Parameters.AddWithValue("rb", after.Rank);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                diff.AddNameOnly((TransportProtocol)reader.GetInt16(0), Records(reader, 1), Records(reader, 2));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return new DiffEditionsResult(before.Edition, after.Edition, diff.Build());
    }

    public async IAsyncEnumerable<ListPortsPage> ListPortsAsync(PortSpan range, DateOnly? asOf, AssignmentStatus status, Transport transport,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        var edition = await EditionResolution.ResolveAsync(connection, transaction, asOf?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), cancellationToken);
        if (edition is null)
        {
            yield return new ListPortsPage(null, []);
            yield break;
        }

        for (var first = range.First; first <= range.Last; first += PortsPerPage)
        {
            var window = new PortSpan(first, Math.Min(range.Last, first + PortsPerPage - 1));
            var segments = new List<ListedSegment>();
            await using (var command = new NpgsqlCommand("""
                SELECT transport, port_first, port_last, version FROM index_versions
                WHERE from_rank <= @rank AND through_rank >= @rank AND port_last >= @lo AND port_first <= @hi AND status <> 0
                  AND (@transport = 0 OR transport = @transport) AND (@status = 0 OR status = @status)
                ORDER BY transport, port_first
                """, connection, transaction))
            {
                command.Parameters.AddWithValue("rank", edition.Rank);
                command.Parameters.AddWithValue("lo", window.First);
                command.Parameters.AddWithValue("hi", window.Last);
                command.Parameters.AddWithValue("transport", (short)transport);
                command.Parameters.AddWithValue("status", (short)status);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    segments.Add(new ListedSegment((Transport)reader.GetInt16(0), reader.GetInt32(1), reader.GetInt32(2),
                        TimelineVersion.Parser.ParseFrom(reader.GetFieldValue<byte[]>(3))));
                }
            }

            yield return new ListPortsPage(edition.Edition, PortListing.Merge(window, segments));
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Ports per page of <see cref="ListPortsAsync"/>.</summary>
    public const int PortsPerPage = 4096;

    private static EditionRecord[] Records(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal)
            ? []
            : [.. TimelineVersion.Parser.ParseFrom(reader.GetFieldValue<byte[]>(ordinal)).Records.Select(r => r.ToDomain())];
}
