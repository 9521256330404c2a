using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Options;
using PortHistory.Server.Application.Configuration;

namespace PortHistory.Server.Application.Following;

/// <summary>What a source answered: nothing new (304, or the same file), a body, or why there is none.</summary>
public abstract record FetchResult
{
    public sealed record NotModified : FetchResult;

    /// <param name="Name">The file's name (the URL's last segment), which a format may take its date from.</param>
    public sealed record Body(byte[] Bytes, string Name, string? ContentType, string? ETag, string? LastModified, string Location) : FetchResult;

    public sealed record Failed(string Reason) : FetchResult;
}

/// <summary>
/// Fetches a source: an HTTP(S) URL by a conditional GET (the stored ETag and Last-Modified), bounded in size and in
/// time, with TLS verified and proxies from the environment (HttpClient's defaults); or a local file, or the newest
/// file of a directory (an offline mirror), by its modification time. Everything from the wire is hostile: the body
/// is read up to the size limit, whatever Content-Length says.
/// </summary>
public sealed class EditionFetcher(IHttpClientFactory clients, IOptions<FollowOptions> options)
{
    public const string ClientName = "registry-follower";

    public async Task<FetchResult> FetchAsync(FollowState state, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.Timeout);
        try
        {
            if (Uri.TryCreate(state.Source, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
            {
                return await FetchHttpAsync(uri, state, timeout.Token);
            }

            return await ReadLocalAsync(state, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new FetchResult.Failed($"no answer within {options.Value.Timeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException e)
        {
            return new FetchResult.Failed(e.HttpRequestError == HttpRequestError.Unknown ? e.Message : $"{e.HttpRequestError}: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new FetchResult.Failed(e.Message);
        }
    }

    private async Task<FetchResult> FetchHttpAsync(Uri uri, FollowState state, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (state.ETag is { } etag && EntityTagHeaderValue.TryParse(etag, out var tag)) request.Headers.IfNoneMatch.Add(tag);
        if (state.LastModified is { } modified && DateTimeOffset.TryParse(modified, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var since))
        {
            request.Headers.IfModifiedSince = since;
        }

        var client = clients.CreateClient(ClientName);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotModified) return new FetchResult.NotModified();
        if (!response.IsSuccessStatusCode) return new FetchResult.Failed($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        var limit = options.Value.MaxBytes;
        if (response.Content.Headers.ContentLength is { } length && length > limit)
        {
            return new FetchResult.Failed($"the body is {length} bytes, more than the {limit} allowed");
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var bytes = await ReadBoundedAsync(stream, limit, cancellationToken);
        if (bytes is null) return new FetchResult.Failed($"the body is more than the {limit} bytes allowed");
        if (response.Content.Headers.ContentLength is { } declared && declared != bytes.Length && response.Content.Headers.ContentEncoding.Count == 0)
        {
            return new FetchResult.Failed($"the body ended after {bytes.Length} of {declared} bytes");
        }

        var name = Path.GetFileName(uri.AbsolutePath);
        return new FetchResult.Body(bytes, name.Length > 0 ? name : uri.Host, response.Content.Headers.ContentType?.MediaType, response.Headers.ETag?.ToString(),
            response.Content.Headers.LastModified?.ToString("r", CultureInfo.InvariantCulture), (response.RequestMessage?.RequestUri ?? uri).ToString());
    }

    /// <summary>A file, or the newest regular file of a directory; "modified" is its modification time, so an untouched file is not read again.</summary>
    private async Task<FetchResult> ReadLocalAsync(FollowState state, CancellationToken cancellationToken)
    {
        var path = Uri.TryCreate(state.Source, UriKind.Absolute, out var uri) && uri.IsFile ? uri.LocalPath : Path.GetFullPath(state.Source);
        FileInfo? file = File.Exists(path)
            ? new FileInfo(path)
            : Directory.Exists(path)
                ? new DirectoryInfo(path).EnumerateFiles().Where(f => !f.Name.StartsWith('.')).OrderByDescending(f => f.LastWriteTimeUtc).ThenBy(f => f.Name).FirstOrDefault()
                : null;
        if (file is null) return new FetchResult.Failed(Directory.Exists(path) ? $"{path} holds no file" : $"{path} does not exist");
        var modified = $"{file.FullName}@{file.LastWriteTimeUtc:O}/{file.Length}";
        if (modified == state.LastModified) return new FetchResult.NotModified();
        if (file.Length > options.Value.MaxBytes) return new FetchResult.Failed($"{file.Name} is {file.Length} bytes, more than the {options.Value.MaxBytes} allowed");
        var bytes = await File.ReadAllBytesAsync(file.FullName, cancellationToken);
        return new FetchResult.Body(bytes, file.Name, null, null, modified, file.FullName);
    }

    private static async Task<byte[]?> ReadBoundedAsync(Stream stream, long limit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit) return null;
            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
