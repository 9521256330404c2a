using Grpc.Core;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Registry.Formats;
using PortHistory.Registry.Protobuf;
using PortHistory.Server.Application.Import;
using PortHistory.Server.Application.Validation;
using PortHistory.Server.Infrastructure.Registry;
using PortHistory.Server.Configuration;

namespace PortHistory.Server.Apis;

/// <summary>
/// porthistory.v1.RegistryAdmin: receives an edition (streamed bytes or a server-side path), parses it (a malformed
/// file is refused with its line and reason and nothing is stored), records it as pending, and reports the
/// importer's progress until the generation containing it commits.
/// </summary>
public sealed class RegistryAdminApi(
    EditionImporter importer,
    EditionStore editions,
    ImportProgressHub progress,
    ImportDirectory importDirectory,
    IOptions<ImportOptions> options,
    ILogger<RegistryAdminApi> logger) : RegistryAdmin.RegistryAdminBase
{
    public override async Task ImportEdition(IAsyncStreamReader<ImportEditionRequest> requestStream, IServerStreamWriter<ImportEditionProgress> responseStream,
        ServerCallContext context)
    {
        var cancellation = context.CancellationToken;
        // Counted from the start of the call: the importer holds back a generation while uploads are under way.
        using var upload = importer.TrackUpload();
        if (!await requestStream.MoveNext(cancellation)) throw Requests.Invalid("header", "the request stream is empty; send the header first");
        if (requestStream.Current.PartCase != ImportEditionRequest.PartOneofCase.Header) throw Requests.Invalid("header", "the first message must be the header");
        var header = requestStream.Current.Header;
        var (bytes, source) = await ReceiveAsync(header, requestStream, cancellation);
        await responseStream.WriteAsync(new ImportEditionProgress { Stage = ImportStage.Received, Message = $"received {bytes.Length} bytes of {source}" }, cancellation);

        var format = Requests.Format(header.Format);
        var readOptions = new EditionReadOptions
        {
            Format = format == EditionFormat.Unspecified ? null : format.ToDomain(),
            EffectiveDate = Requests.Date(header.EffectiveDate, "effective_date"),
            Id = header.EditionId.Length == 0 ? null : header.EditionId,
        };

        Registry.Model.RegistryEdition edition;
        try
        {
            edition = EditionReader.Read(new EditionContent(bytes, source), readOptions);
        }
        catch (EditionFormatException e) when (header.ServerPath.Length > 0)
        {
            // A file of the server's own: its content is not the caller's to read, so the reason stays in the log.
            logger.LogWarning("Import of {Path} refused: {Reason}", source, e.Message);
            var where = e.Line is { } at ? $" at line {at}" : "";
            throw Requests.Invalid("server_path", $"{source} is not a readable edition{where}; the reason is in the server log");
        }
        catch (EditionFormatException e)
        {
            var trailers = new Metadata { { "edition-source", Ascii(e.SourceName) }, { "edition-reason", Ascii(e.Reason) } };
            if (e.Line is { } line) trailers.Add("edition-line", line.ToString(System.Globalization.CultureInfo.InvariantCulture));
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"file: {e.Message}"), trailers);
        }

        var parsed = new ImportEditionProgress
        {
            Stage = ImportStage.Parsed,
            Message = $"{edition.Id}: {edition.Records.Length} records, {edition.Warnings.Length} warnings",
            Edition = Registry.Model.EditionSummary.Of(edition).ToProto(),
        };
        parsed.Warnings.AddRange(edition.Warnings.Take(200).Select(w => w.ToProto()));
        await responseStream.WriteAsync(parsed, cancellation);

        using var watch = progress.Follow(edition.Id);
        var outcome = await importer.SubmitAsync(edition, bytes, cancellation);
        upload.Dispose();
        switch (outcome.Result)
        {
            case SubmitResult.IdTaken:
                throw new RpcException(new Status(StatusCode.AlreadyExists,
                    $"edition_id: \"{outcome.EditionId}\" is already used by a different file (sha256 {outcome.ExistingSha256}); give this one another id"));
            case SubmitResult.AlreadyImported:
                await responseStream.WriteAsync(await FinalAsync(outcome.EditionId, ImportStage.AlreadyImported, "already imported; nothing changed", cancellation), cancellation);
                return;
        }

        await responseStream.WriteAsync(new ImportEditionProgress { Stage = ImportStage.Queued, Message = $"{outcome.EditionId} is queued for the next generation" }, cancellation);
        using var following = outcome.EditionId == edition.Id ? null : progress.Follow(outcome.EditionId);
        var events = (following ?? watch).Events.Reader;
        while (true)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            wait.CancelAfter(TimeSpan.FromSeconds(2));
            ImportEvent? next = null;
            try
            {
                next = await events.ReadAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                // No news from this silo's importer: another silo may have applied it.
                if (await editions.FindAsync(outcome.EditionId, cancellation) is { Pending: false }) break;
                continue;
            }

            if (next.Failure is not null)
            {
                throw new RpcException(new Status(StatusCode.Unavailable,
                    $"applying {outcome.EditionId} failed: {next.Message}; it stays pending and is retried (re-running the import waits for it)"));
            }

            if (next.Stage == ImportStage.Committed) break;
            await responseStream.WriteAsync(new ImportEditionProgress
            {
                Stage = next.Stage, Message = next.Message, Done = (uint)next.Done, Total = (uint)next.Total, Generation = (ulong)next.Generation,
            }, cancellation);
        }

        await responseStream.WriteAsync(await FinalAsync(outcome.EditionId, ImportStage.Committed, "committed", cancellation), cancellation);
    }

    private async Task<(byte[] Bytes, string Source)> ReceiveAsync(ImportEditionHeader header, IAsyncStreamReader<ImportEditionRequest> requestStream,
        CancellationToken cancellation)
    {
        var limit = options.Value.MaxEditionBytes;
        if (header.ServerPath.Length > 0)
        {
            if (await requestStream.MoveNext(cancellation)) throw Requests.Invalid("chunk", "send no file bytes together with server_path");
            var path = Requests.Text(header.ServerPath, "server_path", 4096);
            try
            {
                return await importDirectory.ReadAsync(path, cancellation);
            }
            catch (ImportPathException e)
            {
                throw Requests.Invalid("server_path", e.Message);
            }
        }

        using var buffer = new MemoryStream();
        while (await requestStream.MoveNext(cancellation))
        {
            var part = requestStream.Current;
            if (part.PartCase != ImportEditionRequest.PartOneofCase.Chunk) throw Requests.Invalid("header", "only the first message may be a header");
            if (buffer.Length + part.Chunk.Length > limit) throw Requests.Invalid("chunk", $"the edition exceeds the limit of {limit} bytes");
            part.Chunk.WriteTo(buffer);
        }

        if (buffer.Length == 0) throw Requests.Invalid("chunk", "no file bytes received (send chunks after the header, or set server_path)");
        if (header.FileName.Length > 0 && WireText.Check(header.FileName, 255) is { } badName) throw Requests.Invalid("file_name", badName);
        return (buffer.ToArray(), header.FileName.Length > 0 ? header.FileName : "upload");
    }

    /// <summary>Metadata values are printable ASCII; anything else would fail the whole answer.</summary>
    private static string Ascii(string text) => string.Create(Math.Min(text.Length, 1024), text, (span, source) =>
    {
        for (var i = 0; i < span.Length; i++) span[i] = source[i] is >= ' ' and <= '~' ? source[i] : '?';
    });

    private async Task<ImportEditionProgress> FinalAsync(string editionId, ImportStage stage, string message, CancellationToken cancellation)
    {
        var found = await editions.FindAsync(editionId, cancellation);
        return new ImportEditionProgress
        {
            Stage = stage,
            Message = $"{editionId}: {message}",
            Edition = found?.Summary.ToProto(found.Value.CommittedAt),
            Generation = (ulong)(found?.Generation ?? 0),
        };
    }
}
