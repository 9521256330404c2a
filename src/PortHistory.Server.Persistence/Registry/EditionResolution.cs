using System.Globalization;
using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Registry.Protobuf;

namespace PortHistory.Server.Persistence.Registry;

/// <summary>Which committed edition a reference in a query means, and its rank in history order.</summary>
internal static class EditionResolution
{
    /// <summary>A committed edition by id, or by date (the newest effective on or before it); null reference means the newest.</summary>
    public static async Task<ResolvedEdition?> ResolveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string? reference,
        CancellationToken cancellationToken)
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
            Format = ((PortHistory.Registry.Model.EditionFileFormat)reader.GetInt16(2)).ToProto(),
            Title = reader.GetString(3),
        };
        return new ResolvedEdition(edition, reader.GetInt32(4));
    }
}

internal sealed record ResolvedEdition(EditionRef Edition, int Rank);
