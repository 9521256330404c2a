using Npgsql;
using NpgsqlTypes;
using PortHistory.Registry.Model;
using PortHistory.Server.Application.Registry;

namespace PortHistory.Server.Persistence.Registry;

/// <summary>The editions table in PostgreSQL.</summary>
public sealed class EditionStore(NpgsqlDataSource dataSource) : IEditionStore
{
    public async Task<SubmitOutcome> AddPendingAsync(RegistryEdition edition, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO editions (id, sha256, format, title, effective_date, date_source, source, byte_count, record_count,
                                  warning_count, content, status)
            VALUES (@id, @sha256, @format, @title, @date, @dateSource, @source, @bytes, @records, @warnings, @content, 'pending')
            ON CONFLICT DO NOTHING
            RETURNING id
            """, connection))
        {
            insert.Parameters.AddWithValue("id", edition.Id);
            insert.Parameters.AddWithValue("sha256", edition.Sha256);
            insert.Parameters.AddWithValue("format", (short)edition.Format);
            insert.Parameters.AddWithValue("title", edition.Title);
            insert.Parameters.AddWithValue("date", edition.EffectiveDate);
            insert.Parameters.AddWithValue("dateSource", (short)edition.DateSource);
            insert.Parameters.AddWithValue("source", edition.Source);
            insert.Parameters.AddWithValue("bytes", edition.Bytes);
            insert.Parameters.AddWithValue("records", edition.Records.Length);
            insert.Parameters.AddWithValue("warnings", edition.Warnings.Length);
            insert.Parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>>("content", NpgsqlDbType.Bytea) { TypedValue = content });
            if (await insert.ExecuteScalarAsync(cancellationToken) is string) return new SubmitOutcome(SubmitResult.Queued, edition.Id, null);
        }

        await using var existing = new NpgsqlCommand("SELECT id, sha256, status FROM editions WHERE sha256 = @sha256 OR id = @id ORDER BY (sha256 = @sha256) DESC LIMIT 1", connection);
        existing.Parameters.AddWithValue("sha256", edition.Sha256);
        existing.Parameters.AddWithValue("id", edition.Id);
        await using var reader = await existing.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return new SubmitOutcome(SubmitResult.Queued, edition.Id, null);
        var (id, sha256, status) = (reader.GetString(0), reader.GetString(1), reader.GetString(2));
        if (sha256 != edition.Sha256) return new SubmitOutcome(SubmitResult.IdTaken, id, sha256);
        return new SubmitOutcome(status == "complete" ? SubmitResult.AlreadyImported : SubmitResult.Queued, id, sha256);
    }

    public async Task<IReadOnlyList<StoredEdition>> LoadAllAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT id, sha256, format, title, effective_date, date_source, source, status, content FROM editions", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var editions = new List<StoredEdition>();
        while (await reader.ReadAsync(cancellationToken))
        {
            editions.Add(new StoredEdition(
                reader.GetString(0), reader.GetString(1), (EditionFileFormat)reader.GetInt16(2), reader.GetString(3),
                reader.GetFieldValue<DateOnly>(4), (EditionDateSource)reader.GetInt16(5), reader.GetString(6),
                reader.GetString(7) == "pending", reader.GetFieldValue<byte[]>(8)));
        }

        return editions;
    }

    public async Task<FoundEdition?> FindAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"SELECT {SummaryColumns}, status, committed_generation FROM editions WHERE id = @id", connection);
        command.Parameters.AddWithValue("id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        return new FoundEdition(ReadSummary(reader), reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10),
            reader.IsDBNull(12) ? null : reader.GetInt64(12), reader.GetString(11) == "pending");
    }

    public async Task<CommittedEditions> ListCommittedAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var editions = new List<(EditionOverview, DateTimeOffset?)>();
        await using (var command = new NpgsqlCommand($"SELECT {SummaryColumns} FROM editions WHERE status = 'complete' ORDER BY rank", connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken)) editions.Add((ReadSummary(reader), reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10)));
        }

        await using var generation = new NpgsqlCommand("SELECT coalesce(max(generation), 0) FROM registry_generations WHERE state = 'committed'", connection, transaction);
        var current = (long)(await generation.ExecuteScalarAsync(cancellationToken))!;
        await transaction.CommitAsync(cancellationToken);
        return new CommittedEditions(editions, current);
    }

    /// <summary>
    /// Within a generation's commit: every edition takes its rank (its place in history order), and the pending ones
    /// it applied become complete.
    /// </summary>
    public static async Task MarkCommittedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long generation,
        IReadOnlyList<string> historyOrder, IReadOnlyCollection<string> applied, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            UPDATE editions e SET rank = r.rank FROM unnest(@ids, @ranks) AS r(id, rank) WHERE e.id = r.id;
            UPDATE editions SET status = 'complete', committed_at = now(), committed_generation = @generation WHERE id = ANY(@pending);
            """, connection, transaction);
        command.Parameters.AddWithValue("ids", historyOrder.ToArray());
        command.Parameters.AddWithValue("ranks", Enumerable.Range(0, historyOrder.Count).ToArray());
        command.Parameters.AddWithValue("generation", generation);
        command.Parameters.AddWithValue("pending", applied.ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private const string SummaryColumns =
        "id, format, title, effective_date, date_source, source, sha256, byte_count, record_count, warning_count, committed_at";

    private static EditionOverview ReadSummary(NpgsqlDataReader reader) => new(
        reader.GetString(0), (EditionFileFormat)reader.GetInt16(1), reader.GetString(2), reader.GetFieldValue<DateOnly>(3),
        (EditionDateSource)reader.GetInt16(4), reader.GetString(5), reader.GetString(6), reader.GetInt64(7), reader.GetInt32(8), reader.GetInt32(9));
}
