namespace PortHistory.Server.Application.Registry;

/// <summary>Rereads the committed editions now, as after this silo commits a generation.</summary>
public interface ICatalogRefresh
{
    Task RefreshAsync(CancellationToken cancellationToken);
}
