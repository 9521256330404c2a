using System.Collections.Frozen;
using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Registry.Formats;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;
using PortHistory.Registry.Protobuf;

namespace PortHistory.Server.Persistence.Registry;

/// <summary>
/// The imported local service tables, indexed by port, reread with the edition catalog. Only a change in which tables
/// are committed reads their bytes again (the catalog is refreshed every few seconds).
/// </summary>
public sealed class LocalServiceTables(NpgsqlDataSource dataSource, ILogger<LocalServiceTables> logger) : ILocalServiceTables
{
    private volatile Snapshot _current = new("", FrozenDictionary<int, LocalServiceEntry[]>.Empty);

    public IReadOnlyList<LocalServiceEntry> For(int port, Transport transport = Transport.Unspecified)
    {
        if (!_current.ByPort.TryGetValue(port, out var entries)) return [];
        return transport == Transport.Unspecified ? entries : [.. entries.Where(e => e.Transport == transport)];
    }

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var tables = new List<(string Id, string Sha256)>();
        await using (var command = new NpgsqlCommand(
                         "SELECT id, sha256 FROM editions WHERE status = 'complete' AND format IN (@services, @nmap) ORDER BY effective_date, id", connection))
        {
            command.Parameters.AddWithValue("services", (short)EditionFileFormat.EtcServices);
            command.Parameters.AddWithValue("nmap", (short)EditionFileFormat.NmapServices);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) tables.Add((reader.GetString(0), reader.GetString(1)));
        }

        var key = string.Join(",", tables.Select(t => t.Sha256));
        if (key == _current.Key) return;

        var byPort = new Dictionary<int, List<LocalServiceEntry>>();
        foreach (var (id, _) in tables)
        {
            EditionReadOptions options;
            string source;
            await using (var command = new NpgsqlCommand("SELECT format, title, effective_date, source FROM editions WHERE id = @id", connection))
            {
                command.Parameters.AddWithValue("id", id);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                if (!await reader.ReadAsync(cancellationToken)) continue;
                options = new EditionReadOptions
                {
                    Format = (EditionFileFormat)reader.GetInt16(0),
                    Title = reader.GetString(1),
                    EffectiveDate = reader.GetFieldValue<DateOnly>(2),
                    Id = id,
                };
                source = reader.GetString(3);
            }

            RegistryEdition edition;
            try
            {
                edition = EditionReader.Read(new EditionContent(await OriginalFiles.ReadAsync(connection, id, cancellationToken), source), options);
            }
            catch (Exception e) when (e is EditionFormatException or Application.Registry.OriginalUnreadableException)
            {
                // It was read when imported; one table that no longer reads must not keep the catalog (or the silo) from loading.
                logger.LogWarning("Local service table {Id} could not be read: {Message}", id, e.Message);
                continue;
            }

            foreach (var entry in LocalEntry.All(edition).OrderBy(e => e.Port).ThenBy(e => e.Transport))
            {
                if (!byPort.TryGetValue(entry.Port, out var list)) byPort[entry.Port] = list = [];
                list.Add(entry.ToProto());
            }
        }

        _current = new Snapshot(key, byPort.ToFrozenDictionary(p => p.Key, p => p.Value.ToArray()));
        logger.LogInformation("Local service tables: {Count} table(s), {Ports} port(s)", tables.Count, byPort.Count);
    }

    private sealed record Snapshot(string Key, FrozenDictionary<int, LocalServiceEntry[]> ByPort);
}
