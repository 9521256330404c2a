using Npgsql;
using NpgsqlTypes;
using PortHistory.Registry.Model;
using PortHistory.Server.Application.Registry;

namespace PortHistory.Server.Persistence.Registry;

/// <summary>The editions table in PostgreSQL, the originals in original_chunks.</summary>
public sealed class EditionStore(NpgsqlDataSource dataSource) : IEditionStore
{
    public async Task<SubmitOutcome> AddPendingAsync(RegistryEdition edition, ReadOnlyMemory<byte> content, EditionOrigin? origin,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            await using var insert = new NpgsqlCommand("""
                INSERT INTO editions (id, sha256, format, title, effective_date, date_source, source, byte_count, record_count,
                                      warning_count, status, origin, retrieved_at, etag, last_modified, remark, parse_digest)
                VALUES (@id, @sha256, @format, @title, @date, @dateSource, @source, @bytes, @records, @warnings, 'pending',
                        @origin, @retrievedAt, @etag, @lastModified, @remark, @digest)
                ON CONFLICT DO NOTHING
                RETURNING id
                """, connection, transaction);
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
            insert.Parameters.Add(Text("origin", origin?.Location));
            insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset?>("retrievedAt", NpgsqlDbType.TimestampTz) { TypedValue = origin?.RetrievedAt?.ToUniversalTime() });
            insert.Parameters.Add(Text("etag", origin?.ETag));
            insert.Parameters.Add(Text("lastModified", origin?.LastModified));
            insert.Parameters.Add(Text("remark", origin?.Remark));
            insert.Parameters.AddWithValue("digest", ParseDigest.Of(edition));
            if (await insert.ExecuteScalarAsync(cancellationToken) is string)
            {
                var chunks = await OriginalFiles.StoreAsync(connection, transaction, content, cancellationToken);
                await using var list = new NpgsqlCommand("UPDATE editions SET chunks = @chunks WHERE id = @id", connection, transaction);
                list.Parameters.AddWithValue("chunks", chunks);
                list.Parameters.AddWithValue("id", edition.Id);
                await list.ExecuteNonQueryAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return new SubmitOutcome(SubmitResult.Queued, edition.Id, null);
            }
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
            "SELECT id, sha256, format, title, effective_date, date_source, source, status, record_count, warning_count, parse_digest FROM editions", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var editions = new List<StoredEdition>();
        while (await reader.ReadAsync(cancellationToken))
        {
            editions.Add(new StoredEdition(
                reader.GetString(0), reader.GetString(1), (EditionFileFormat)reader.GetInt16(2), reader.GetString(3),
                reader.GetFieldValue<DateOnly>(4), (EditionDateSource)reader.GetInt16(5), reader.GetString(6), reader.GetString(7) == "pending",
                reader.GetInt32(8), reader.GetInt32(9), reader.IsDBNull(10) ? null : reader.GetFieldValue<byte[]>(10)));
        }

        return editions;
    }

    public async Task<byte[]> ReadOriginalAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await OriginalFiles.ReadAsync(connection, id, cancellationToken);
    }

    public async Task<FoundEdition?> FindAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"SELECT {SummaryColumns}, status, committed_generation FROM editions WHERE id = @id", connection);
        command.Parameters.AddWithValue("id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        return new FoundEdition(ReadSummary(reader), CommittedAt(reader), reader.IsDBNull(18) ? null : reader.GetInt64(18), reader.GetString(17) == "pending");
    }

    public async Task<CommittedEditions> ListCommittedAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var editions = new List<CommittedEdition>();
        await using (var command = new NpgsqlCommand($"SELECT {SummaryColumns} FROM editions WHERE status = 'complete' ORDER BY rank", connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var origin = new EditionOrigin(Nullable(reader, 11), reader.IsDBNull(12) ? null : reader.GetFieldValue<DateTimeOffset>(12), Nullable(reader, 13),
                    Nullable(reader, 14), Nullable(reader, 15));
                editions.Add(new CommittedEdition(ReadSummary(reader), CommittedAt(reader), origin, reader.IsDBNull(16) ? null : reader.GetInt32(16)));
            }
        }

        await using var generation = new NpgsqlCommand("SELECT coalesce(max(generation), 0) FROM registry_generations WHERE state = 'committed'", connection, transaction);
        var current = (long)(await generation.ExecuteScalarAsync(cancellationToken))!;
        await transaction.CommitAsync(cancellationToken);
        return new CommittedEditions(editions, current);
    }

    public async Task RecordReparseAsync(string id, int records, int warnings, byte[] parseDigest, string remark, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE editions SET record_count = @records, warning_count = @warnings, parse_digest = @digest, remark = @remark WHERE id = @id");
        command.Parameters.AddWithValue("records", records);
        command.Parameters.AddWithValue("warnings", warnings);
        command.Parameters.AddWithValue("digest", parseDigest);
        command.Parameters.AddWithValue("remark", remark);
        command.Parameters.AddWithValue("id", id);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Within a generation's commit: every edition takes its rank (its place in history order) and its change count,
    /// and the pending ones it applied become complete. Rows whose rank and count stay are left alone.
    /// </summary>
    public static async Task MarkCommittedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long generation,
        IReadOnlyList<string> historyOrder, IReadOnlyList<int> changeCounts, IReadOnlyCollection<string> applied, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            UPDATE editions e SET rank = r.rank, change_count = r.changes FROM unnest(@ids, @ranks, @changes) AS r(id, rank, changes)
            WHERE e.id = r.id AND (e.rank IS DISTINCT FROM r.rank OR e.change_count IS DISTINCT FROM r.changes);
            UPDATE editions SET status = 'complete', committed_at = now(), committed_generation = @generation WHERE id = ANY(@pending);
            """, connection, transaction);
        command.Parameters.AddWithValue("ids", historyOrder.ToArray());
        command.Parameters.AddWithValue("ranks", Enumerable.Range(0, historyOrder.Count).ToArray());
        command.Parameters.AddWithValue("changes", changeCounts.ToArray());
        command.Parameters.AddWithValue("generation", generation);
        command.Parameters.AddWithValue("pending", applied.ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private const string SummaryColumns =
        "id, format, title, effective_date, date_source, source, sha256, byte_count, record_count, warning_count, committed_at, " +
        "origin, retrieved_at, etag, last_modified, remark, change_count";

    private static EditionOverview ReadSummary(NpgsqlDataReader reader) => new(
        reader.GetString(0), (EditionFileFormat)reader.GetInt16(1), reader.GetString(2), reader.GetFieldValue<DateOnly>(3),
        (EditionDateSource)reader.GetInt16(4), reader.GetString(5), reader.GetString(6), reader.GetInt64(7), reader.GetInt32(8), reader.GetInt32(9));

    private static DateTimeOffset? CommittedAt(NpgsqlDataReader reader) => reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10);

    private static string? Nullable(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static NpgsqlParameter Text(string name, string? value) => new NpgsqlParameter<string?>(name, NpgsqlDbType.Text) { TypedValue = value };
}
