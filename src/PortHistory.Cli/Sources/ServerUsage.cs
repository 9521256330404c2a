using Grpc.Core;
using PortHistory.Contracts.V1;

namespace PortHistory.Cli.Sources;

/// <summary>Observed usage over time, from a PortHistory server: one port's history, and bulk loads of past rows (admin role).</summary>
public sealed class ServerUsage(ServerConnection server)
{
    /// <summary>
    /// Asks for the counts in columns (years by day are a fraction of the bytes that way) and hands them on as points; a
    /// server that answers in points anyway is read as it is.
    /// </summary>
    public async Task<GetUsageHistoryResponse> GetHistoryAsync(GetUsageHistoryRequest request, CancellationToken cancellationToken)
    {
        var columns = request.Clone();
        columns.Columns = true;
        var answer = await ServerConnection.Call(async () => await server.Usage.GetUsageHistoryAsync(columns, server.Headers, cancellationToken: cancellationToken));
        try
        {
            return answer.WithPoints();
        }
        catch (InvalidDataException e)
        {
            throw new SourceException($"the server's usage answer does not add up: {e.Message}", isUsage: false, e);
        }
    }

    /// <summary>
    /// Sends the messages on one call and returns what the server loaded. The server commits only when the stream
    /// completes, so an exception while the messages are produced (the file changed, Ctrl+C) ends the call and loads nothing.
    /// </summary>
    public Task<LoadUsageHistoryResponse> LoadAsync(IEnumerable<LoadUsageHistoryRequest> messages, CancellationToken cancellationToken) => ServerConnection.Call(async () =>
    {
        using var call = server.Usage.LoadUsageHistory(server.Headers, cancellationToken: cancellationToken);
        try
        {
            foreach (var message in messages) await call.RequestStream.WriteAsync(message, cancellationToken);
            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException) when (!cancellationToken.IsCancellationRequested)
        {
            // The server answered before reading everything (too many bad rows, a refused token): its status is the answer.
        }

        return await call.ResponseAsync;
    });
}
