using System.Data;
using System.Globalization;
using Google.Protobuf;
using Npgsql;
using NpgsqlTypes;
using PortHistory.Contracts.V1;
using DiffBuilder = PortHistory.Registry.History.DiffBuilder;
using DomainDiffEntry = PortHistory.Registry.History.DiffEntry;
using RenameChains = PortHistory.Registry.History.RenameChains;
using PortHistory.Registry.Protobuf;
using PortHistory.Server.Application.Import;
using DomainRecord = PortHistory.Registry.Model.RegistryRecord;
using DomainTransport = PortHistory.Registry.Model.Transport;
using PortRange = PortHistory.Registry.Model.PortRange;

namespace PortHistory.Server.Infrastructure.Registry;

/// <summary>
/// The query-side index in PostgreSQL: rewritten whole, in the transaction that commits a history generation, and
/// read by the cross-port queries. Every read runs in one repeatable-read snapshot, so an answer never mixes two
/// generations.
/// </summary>
public sealed class QueryIndex(NpgsqlDataSource dataSource)
{
    /// <summary>Replaces every index row with the projection's; runs inside the caller's commit transaction.</summary>
    public static async Task ReplaceAsync(NpgsqlConnection connection, RegistryProjection projection, CancellationToken cancellationToken)
    {
        await using (var clear = new NpgsqlCommand(
                         "DELETE FROM index_versions; DELETE FROM index_name_only; DELETE FROM index_holdings; DELETE FROM index_renames;", connection))
        {
            await clear.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var copy = await connection.BeginBinaryImportAsync(
                         "COPY index_versions (transport, port_first, port_last, version_index, from_rank, through_rank, status, state_key, version) FROM STDIN (FORMAT BINARY)",
                         cancellationToken))
        {
            foreach (var row in projection.Versions)
            {
                await copy.StartRowAsync(cancellationToken);
                await copy.WriteAsync(row.Transport, NpgsqlDbType.Smallint, cancellationToken);
                await copy.WriteAsync(row.PortFirst, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(row.PortLast, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(row.VersionIndex, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(row.FromRank, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(row.ThroughRank, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(row.Status, NpgsqlDbType.Smallint, cancellationToken);
                await copy.WriteAsync(row.StateKey, NpgsqlDbType.Bytea, cancellationToken);
                await copy.WriteAsync(row.Version, NpgsqlDbType.Bytea, cancellationToken);
            }

            await copy.CompleteAsync(cancellationToken);
        }

        await using (var copy = await connection.BeginBinaryImportAsync(
                         "COPY index_name_only (transport, name_lower, version_index, from_rank, through_rank, state_key, version) FROM STDIN (FORMAT BINARY)",
                         cancellationToken))
        {
            foreach (var row in projection.NameOnly)
            {
                await copy.StartRowAsync(cancellationToken);
                await copy.WriteAsync(row.Transport, NpgsqlDbType.Smallint, cancellationToken);
                await copy.WriteAsync(row.NameLower, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(row.VersionIndex, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(row.FromRank, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(row.ThroughRank, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(row.StateKey, NpgsqlDbType.Bytea, cancellationToken);
                await copy.WriteAsync(row.Version, NpgsqlDbType.Bytea, cancellationToken);
            }

            await copy.CompleteAsync(cancellationToken);
        }

        await using (var copy = await connection.BeginBinaryImportAsync("COPY index_holdings (name_lower, ordinal, holding) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var row in projection.Holdings)
            {
                await copy.WriteRowAsync(cancellationToken, row.NameLower, row.Ordinal, row.Holding);
            }

            await copy.CompleteAsync(cancellationToken);
        }

        await using (var copy = await connection.BeginBinaryImportAsync("COPY index_renames (ordinal, from_lower, to_lower, link) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var row in projection.Renames)
            {
                await copy.WriteRowAsync(cancellationToken, row.Ordinal, row.FromLower, row.ToLower, row.Link);
            }

            await copy.CompleteAsync(cancellationToken);
        }
    }

    public async Task<FindServiceResponse> FindServiceAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        var response = new FindServiceResponse { Name = name };
        await using (var command = new NpgsqlCommand("SELECT holding FROM index_holdings WHERE name_lower = @name ORDER BY ordinal", connection, transaction))
        {
            command.Parameters.AddWithValue("name", name.ToLowerInvariant());
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) response.Holdings.Add(ServiceHolding.Parser.ParseFrom(reader.GetFieldValue<byte[]>(0)));
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
    public async Task<DiffEditionsResult> DiffAsync(string from, string to, PortRange? ports, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        var before = await ResolveAsync(connection, transaction, from, cancellationToken) ?? throw new UnknownEditionException("from_edition", from);
        var after = await ResolveAsync(connection, transaction, to, cancellationToken) ?? throw new UnknownEditionException("to_edition", to);
        var range = ports ?? PortRange.All;
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
                diff.AddSegment((DomainTransport)reader.GetInt16(0), new PortRange(first, last), Records(reader, 3), Records(reader, 4));
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
                diff.AddNameOnly((DomainTransport)reader.GetInt16(0), Records(reader, 1), Records(reader, 2));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return new DiffEditionsResult(before.Edition, after.Edition, diff.Build());
    }

    /// <summary>
    /// Every listed (port, transport) of a range in the edition in effect on a date (or the newest), in pages of
    /// <see cref="PortsPerPage"/> ports, all from one snapshot: a caller holds one page in memory, not the range.
    /// </summary>
    public async IAsyncEnumerable<ListPortsPage> ListPortsAsync(PortRange range, DateOnly? asOf, short status, short transport,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        var edition = await ResolveAsync(connection, transaction, asOf?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), cancellationToken);
        if (edition is null)
        {
            yield return new ListPortsPage(null, range, []);
            yield break;
        }

        for (var first = range.First; first <= range.Last; first += PortsPerPage)
        {
            var window = new PortRange(first, Math.Min(range.Last, first + PortsPerPage - 1));
            var segments = new List<(short Transport, int First, int Last, TimelineVersion Version)>();
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
                command.Parameters.AddWithValue("transport", transport);
                command.Parameters.AddWithValue("status", status);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    segments.Add((reader.GetInt16(0), reader.GetInt32(1), reader.GetInt32(2), TimelineVersion.Parser.ParseFrom(reader.GetFieldValue<byte[]>(3))));
                }
            }

            yield return new ListPortsPage(edition.Edition, window, segments);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Ports per page of <see cref="ListPortsAsync"/>.</summary>
    public const int PortsPerPage = 4096;

    private static DomainRecord[] Records(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal)
            ? []
            : [.. TimelineVersion.Parser.ParseFrom(reader.GetFieldValue<byte[]>(ordinal)).Records.Select(r => r.ToDomain())];

    /// <summary>A committed edition by id, or by date (the newest effective on or before it); null reference means the newest.</summary>
    private static async Task<ResolvedEdition?> ResolveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string? reference, CancellationToken cancellationToken)
    {
        // Local service tables (/etc/services, nmap-services) are committed too but hold no place (rank) in the registry's history.
        const string columns = "SELECT id, effective_date, format, title, rank FROM editions WHERE status = 'complete' AND rank IS NOT NULL";
        await using var command = new NpgsqlCommand("", connection, transaction);
        if (reference is null)
        {
            command.CommandText = $"{columns} ORDER BY rank DESC LIMIT 1";
        }
        else if (DateOnly.TryParseExact(reference, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            command.CommandText = $"{columns} AND effective_date <= @date ORDER BY rank DESC LIMIT 1";
            command.Parameters.AddWithValue("date", date);
        }
        else
        {
            command.CommandText = $"{columns} AND id = @id";
            command.Parameters.AddWithValue("id", reference);
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        var edition = new EditionRef
        {
            Id = reader.GetString(0),
            EffectiveDate = reader.GetFieldValue<DateOnly>(1).ToProto(),
            Format = ((PortHistory.Registry.Model.EditionFormat)reader.GetInt16(2)).ToProto(),
            Title = reader.GetString(3),
        };
        return new ResolvedEdition(edition, reader.GetInt32(4));
    }

    private sealed record ResolvedEdition(EditionRef Edition, int Rank);
}

public sealed record DiffEditionsResult(EditionRef From, EditionRef To, IReadOnlyList<DomainDiffEntry> Entries);

/// <summary>One page of a listing: the segments that overlap its ports (they may reach beyond them).</summary>
public sealed record ListPortsPage(EditionRef? Edition, PortRange Range, IReadOnlyList<(short Transport, int First, int Last, TimelineVersion Version)> Segments);

/// <summary>A request named an edition that is not (yet) committed.</summary>
public sealed class UnknownEditionException(string field, string reference)
    : Exception($"{field}: no committed edition \"{reference}\" (an edition id, or a date yyyy-MM-dd)")
{
    public string Field { get; } = field;
}
