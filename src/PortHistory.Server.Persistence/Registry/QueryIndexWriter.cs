using Npgsql;
using NpgsqlTypes;
using PortHistory.Server.Application.Registry;

namespace PortHistory.Server.Persistence.Registry;

/// <summary>
/// Writes the query-side index (index_versions, index_name_only, index_holdings, index_renames): rewritten whole, in
/// the transaction that commits a history generation.
/// </summary>
public static class QueryIndexWriter
{
    /// <summary>Replaces every index row with the projection's; runs inside the caller's commit transaction.</summary>
    public static async Task ReplaceAsync(NpgsqlConnection connection, QueryIndexRows rows, CancellationToken cancellationToken)
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
            foreach (var row in rows.Versions)
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
            foreach (var row in rows.NameOnly)
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
            foreach (var row in rows.Holdings)
            {
                await copy.WriteRowAsync(cancellationToken, row.NameLower, row.Ordinal, row.Holding);
            }

            await copy.CompleteAsync(cancellationToken);
        }

        await using (var copy = await connection.BeginBinaryImportAsync("COPY index_renames (ordinal, from_lower, to_lower, link) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var row in rows.Renames)
            {
                await copy.WriteRowAsync(cancellationToken, row.Ordinal, row.FromLower, row.ToLower, row.Link);
            }

            await copy.CompleteAsync(cancellationToken);
        }
    }
}
