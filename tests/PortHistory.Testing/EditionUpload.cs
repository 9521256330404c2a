using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using PortHistory.Contracts.V1;

namespace PortHistory.Testing;

/// <summary>Imports edition files through the RegistryAdmin gRPC API, as the CLI does.</summary>
public static class EditionUpload
{
    /// <summary>Asks the server to import a file from its own file system (server_path): no bytes are sent.</summary>
    public static async Task<IReadOnlyList<ImportEditionProgress>> ImportFromServerAsync(GrpcChannel channel, string serverPath)
    {
        var client = new RegistryAdmin.RegistryAdminClient(channel);
        using var call = client.ImportEdition();
        try
        {
            await call.RequestStream.WriteAsync(new ImportEditionRequest { Header = new ImportEditionHeader { ServerPath = serverPath } });
            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException)
        {
            // Refused early: the status comes with the response stream below.
        }

        var progress = new List<ImportEditionProgress>();
        await foreach (var message in call.ResponseStream.ReadAllAsync()) progress.Add(message);
        return progress;
    }

    public static async Task<IReadOnlyList<ImportEditionProgress>> ImportAsync(GrpcChannel channel, string path, ImportEditionHeader? header = null,
        Metadata? headers = null, Action<ImportEditionProgress>? onProgress = null, CancellationToken cancellationToken = default)
    {
        var client = new RegistryAdmin.RegistryAdminClient(channel);
        using var call = client.ImportEdition(headers, cancellationToken: cancellationToken);
        var first = header?.Clone() ?? new ImportEditionHeader();
        if (first.FileName.Length == 0) first.FileName = Path.GetFileName(path);
        try
        {
            await call.RequestStream.WriteAsync(new ImportEditionRequest { Header = first }, cancellationToken);
            var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
            foreach (var chunk in bytes.Chunk(512 * 1024))
            {
                await call.RequestStream.WriteAsync(new ImportEditionRequest { Chunk = ByteString.CopyFrom(chunk) }, cancellationToken);
            }

            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException) when (!cancellationToken.IsCancellationRequested)
        {
            // The server ended the call early (refused it): its status comes with the response stream below.
        }
        var progress = new List<ImportEditionProgress>();
        await foreach (var message in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            progress.Add(message);
            onProgress?.Invoke(message);
        }

        return progress;
    }

    /// <summary>Sends several files at once, as `porthistory import DIR` does; the server applies them together.</summary>
    public static Task<IReadOnlyList<ImportEditionProgress>[]> ImportAllAsync(GrpcChannel channel, IEnumerable<string> paths, Metadata? headers = null) =>
        Task.WhenAll(paths.Select(p => ImportAsync(channel, p, headers: headers)));
}
