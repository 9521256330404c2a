using System.Collections.Immutable;
using System.Data;
using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;
using PortHistory.Registry.Protobuf;
using PortHistory.Server.Application.Registry;

namespace PortHistory.Server.Persistence.Registry;

/// <summary>
/// Reads the committed history back from the query index (its versions hold the records and changes as the contract
/// serializes them), for an importer that did not commit the newest generation itself: one snapshot, a few tens of
/// thousands of rows, whatever the number of editions.
/// </summary>
internal static class CommittedHistoryReader
{
    public static async Task<CommittedHistory> ReadAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        long generation;
        await using (var command = new NpgsqlCommand("SELECT coalesce(max(generation), 0) FROM registry_generations WHERE state = 'committed'", connection, transaction))
        {
            generation = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        }

        var editions = new List<EditionIdentity>();
        await using (var command = new NpgsqlCommand(
                         "SELECT id, effective_date, format, title FROM editions WHERE status = 'complete' AND rank IS NOT NULL ORDER BY rank", connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                editions.Add(new EditionIdentity(reader.GetString(0), reader.GetFieldValue<DateOnly>(1), (EditionFileFormat)reader.GetInt16(2), reader.GetString(3)));
            }
        }

        var byId = editions.ToDictionary(e => e.Id, StringComparer.Ordinal);
        var segments = TransportProtocols.All.ToDictionary(t => t, _ => new List<(PortSpan, ImmutableArray<LedgerVersion>)>());
        await using (var command = new NpgsqlCommand(
                         "SELECT transport, port_first, port_last, version FROM index_versions ORDER BY transport, port_first, version_index", connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            var current = (Transport: (short)-1, First: -1, Last: -1, Versions: ImmutableArray.CreateBuilder<LedgerVersion>(), Bytes: new List<byte[]>());
            // Segments cut from one range hold the same versions: read back as one instance, as the ledger that wrote them held them.
            var previous = (Transport: (short)-1, Last: -1, Versions: ImmutableArray<LedgerVersion>.Empty, Bytes: new List<byte[]>());
            while (await reader.ReadAsync(cancellationToken))
            {
                var (transport, first) = (reader.GetInt16(0), reader.GetInt32(1));
                if ((transport, first) != (current.Transport, current.First)) Close();
                current = current.Transport == transport && current.First == first
                    ? current
                    : (transport, first, reader.GetInt32(2), ImmutableArray.CreateBuilder<LedgerVersion>(), []);
                var bytes = reader.GetFieldValue<byte[]>(3);
                var index = current.Versions.Count;
                current.Versions.Add(previous.Transport == transport && previous.Last + 1 == first && index < previous.Bytes.Count &&
                                     previous.Bytes[index].AsSpan().SequenceEqual(bytes)
                    ? previous.Versions[index]
                    : Restore(TimelineVersion.Parser.ParseFrom(bytes), byId));
                current.Bytes.Add(bytes);
            }

            Close();

            void Close()
            {
                if (current.First < 0) return;
                var versions = current.Versions.ToImmutable();
                segments[(TransportProtocol)current.Transport].Add((new PortSpan(current.First, current.Last), versions));
                previous = (current.Transport, current.Last, versions, current.Bytes);
                current = ((short)-1, -1, -1, ImmutableArray.CreateBuilder<LedgerVersion>(), []);
            }
        }

        var nameOnly = new List<LedgerNameOnly>();
        await using (var command = new NpgsqlCommand(
                         "SELECT transport, name_lower, version FROM index_name_only ORDER BY transport, name_lower, version_index", connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var (transport, name) = ((TransportProtocol)reader.GetInt16(0), reader.GetString(1));
                var version = Restore(TimelineVersion.Parser.ParseFrom(reader.GetFieldValue<byte[]>(2)), byId);
                if (nameOnly.Count > 0 && nameOnly[^1] is { } last && last.Transport == transport && last.NameLower == name)
                {
                    nameOnly[^1] = last with { Versions = last.Versions.Add(version) };
                }
                else
                {
                    nameOnly.Add(new LedgerNameOnly(name, transport, [version]));
                }
            }
        }

        await transaction.CommitAsync(cancellationToken);
        var ledger = HistoryLedger.Restore(editions, segments.ToDictionary(s => s.Key, s => (IReadOnlyList<(PortSpan, ImmutableArray<LedgerVersion>)>)s.Value), nameOnly);
        return new CommittedHistory(generation, ledger);
    }

    private static LedgerVersion Restore(TimelineVersion version, Dictionary<string, EditionIdentity> editions)
    {
        var from = editions.TryGetValue(version.From.Id, out var known)
            ? known
            : throw new InvalidOperationException($"the query index names edition {version.From.Id}, which is not committed");
        return LedgerVersion.Restore(from, [.. version.Records.Select(r => r.ToDomain())], [.. version.Changes.Select(c => c.ToDomain())]);
    }
}
