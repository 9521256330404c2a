using Grpc.Core;
using PortHistory.Contracts.V1;

namespace PortHistory.Cli.Sources;

/// <summary>The server's editions as they came: where from, what each changed, their originals, and a rebuild from them.</summary>
public static class ServerEditionAdministration
{
    /// <summary>The committed editions with their provenance, oldest first.</summary>
    public static Task<IReadOnlyList<EditionSummary>> ListEditionSummariesAsync(this ServerRegistrySource server, CancellationToken cancellationToken) =>
        ServerConnection.Call<IReadOnlyList<EditionSummary>>(async () =>
            [.. (await server.Connection.Registry.ListEditionsAsync(new ListEditionsRequest(), server.Connection.Headers, cancellationToken: cancellationToken)).Editions]);

    /// <summary>Writes an edition's original to <paramref name="destination"/>, byte for byte; returns its summary.</summary>
    public static Task<EditionSummary> ExportEditionAsync(this ServerRegistrySource server, string editionId, Stream destination,
        CancellationToken cancellationToken) => ServerConnection.Call(async () =>
    {
        using var call = server.Connection.Admin.ExportEdition(new ExportEditionRequest { EditionId = editionId }, server.Connection.Headers, cancellationToken: cancellationToken);
        EditionSummary? edition = null;
        await foreach (var chunk in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            edition ??= chunk.Edition;
            chunk.Data.WriteTo(destination);
        }

        return edition ?? throw new SourceException($"the server sent nothing for {editionId}", isUsage: false);
    });

    /// <summary>Runs a rebuild, reporting each message as it comes; returns the result.</summary>
    public static Task<RebuildResult> RebuildHistoryAsync(this ServerRegistrySource server, Action<RebuildHistoryProgress> onProgress,
        CancellationToken cancellationToken) => ServerConnection.Call(async () =>
    {
        using var call = server.Connection.Admin.RebuildHistory(new RebuildHistoryRequest(), server.Connection.Headers, cancellationToken: cancellationToken);
        RebuildResult? result = null;
        await foreach (var progress in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            onProgress(progress);
            result = progress.Result ?? result;
        }

        return result ?? throw new SourceException("the server ended the rebuild without a result", isUsage: false);
    });
}
