using System.Collections.Frozen;
using Npgsql;
using PortHistory.Contracts.V1;
using PortHistory.Grains.Abstractions;
using PortHistory.Registry.Protobuf;
using PortHistory.Server.Application.Notifications;
using PortHistory.Server.Application.Registry;

namespace PortHistory.Server.Persistence.Registry;

/// <summary>
/// This silo's view of the committed editions, read from PostgreSQL at start, after every import this silo
/// commits, on every "porthistory_catalog" notification from other silos, and every few seconds as a fallback; the
/// local service tables (committed with the editions) are reread with it.
/// </summary>
public sealed class EditionCatalog(NpgsqlDataSource dataSource, LocalServiceTables localTables) : IEditionCatalog, ICatalogRefresh, INotificationHandler
{


    string INotificationHandler.Channel => NotificationChannels.Catalog;

    bool INotificationHandler.RefreshWithoutNotice => true;

    Task INotificationHandler.OnChangedAsync(CancellationToken cancellationToken) => RefreshAsync(cancellationToken);

    private volatile CatalogSnapshot _current = CatalogSnapshot.Empty;
    private volatile FrozenSet<long> _committed = FrozenSet<long>.Empty;
    private readonly SemaphoreSlim _refreshing = new(1, 1);

    public CatalogSnapshot Current => _current;

    public bool IsCommitted(long generation) => _committed.Contains(generation);

    public Task AtLeastAsync(long generation, CancellationToken cancellationToken) =>
        _current.Generation >= generation ? Task.CompletedTask : RefreshAsync(cancellationToken);

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refreshing.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            // One snapshot for both reads: editions and generations always agree.
            await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
            var committed = new List<long>();
            await using (var command = new NpgsqlCommand("SELECT generation FROM registry_generations WHERE state = 'committed'", connection, transaction))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken)) committed.Add(reader.GetInt64(0));
            }

            var editions = new List<EditionRef>();
            await using (var command = new NpgsqlCommand(
                             "SELECT id, effective_date, format, title FROM editions WHERE status = 'complete' AND rank IS NOT NULL ORDER BY rank", connection, transaction))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    editions.Add(new EditionRef
                    {
                        Id = reader.GetString(0),
                        EffectiveDate = reader.GetFieldValue<DateOnly>(1).ToProto(),
                        Format = ((PortHistory.Registry.Model.EditionFileFormat)reader.GetInt16(2)).ToProto(),
                        Title = reader.GetString(3),
                    });
                }
            }

            await transaction.CommitAsync(cancellationToken);
            var generation = committed.Count == 0 ? 0 : committed.Max();
            if (generation < _current.Generation) return;
            _committed = committed.ToFrozenSet();
            _current = new CatalogSnapshot(generation, editions);
            await localTables.RefreshAsync(cancellationToken);
        }
        finally
        {
            _refreshing.Release();
        }
    }
}

