using Grpc.Core;
using Microsoft.Extensions.Options;
using PortHistory.Contracts.V1;
using PortHistory.Registry.Formats;
using PortHistory.Registry.Protobuf;
using PortHistory.Server.Application.Configuration;
using PortHistory.Server.Application.Import;
using PortHistory.Contracts;
using PortHistory.Server.Application.Registry;

namespace PortHistory.Server.Apis;

/// <summary>
/// porthistory.v1.RegistryAdmin: receives an edition (streamed bytes or a server-side path) and hands it to
/// <see cref="EditionImport"/>, which parses, stores and follows it; its reports go back as progress messages. Gives
/// back an edition's original, and runs a rebuild of the history from the originals (<see cref="HistoryRebuild"/>).
/// Refusals (a malformed file, a taken id, a failed generation) are mapped to status codes by <see cref="RpcErrorMapping"/>.
/// </summary>
public sealed class RegistryAdminApi(EditionImport import, IEditionStore editions, HistoryRebuild rebuild, IOptions<ImportOptions> options)
    : RegistryAdmin.RegistryAdminBase
{
    /// <summary>Bytes per message of an exported original.</summary>
    private const int ExportChunk = 256 * 1024;

    /// <summary>At most this many parse warnings go back to the caller.</summary>
    private const int WarningsShown = 200;

    public override async Task ImportEdition(IAsyncStreamReader<ImportEditionRequest> requestStream, IServerStreamWriter<ImportEditionProgress> responseStream,
        ServerCallContext context)
    {
        var cancellation = context.CancellationToken;
        using var tracking = import.TrackUpload();
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

        var origin = header.Origin.Length > 0 || header.Remark.Length > 0 || header.RetrievedAt is not null
            ? new EditionOrigin(header.Origin.Length > 0 ? Requests.Text(header.Origin, "origin", 2048) : null, header.RetrievedAt?.ToDateTimeOffset(),
                Remark: header.Remark.Length > 0 ? Requests.Text(header.Remark, "remark", 1024) : null)
            : null;
        var upload = new EditionUpload(bytes, source, readOptions, ServerFile: header.ServerPath.Length > 0, origin, header.RevisionOfDay);
        await foreach (var report in import.ImportAsync(upload, tracking, cancellation))
        {
            await responseStream.WriteAsync(ToProgress(report), cancellation);
        }
    }

    public override async Task ExportEdition(ExportEditionRequest request, IServerStreamWriter<ExportEditionChunk> responseStream, ServerCallContext context)
    {
        var id = Requests.Text(request.EditionId, "edition_id", 256);
        var found = await editions.FindAsync(id, context.CancellationToken) ?? throw new RpcException(new Status(StatusCode.NotFound, $"edition_id: no edition \"{id}\""));
        var original = await editions.ReadOriginalAsync(found.Summary.Id, context.CancellationToken);
        await responseStream.WriteAsync(new ExportEditionChunk { Edition = found.Summary.ToProto(found.CommittedAt) }, context.CancellationToken);
        foreach (var chunk in original.Chunk(ExportChunk))
        {
            await responseStream.WriteAsync(new ExportEditionChunk { Data = Google.Protobuf.ByteString.CopyFrom(chunk) }, context.CancellationToken);
        }
    }

    public override async Task RebuildHistory(RebuildHistoryRequest request, IServerStreamWriter<RebuildHistoryProgress> responseStream, ServerCallContext context)
    {
        await foreach (var report in rebuild.RunAsync(context.CancellationToken))
        {
            var progress = new RebuildHistoryProgress { Message = report.Message, Done = (uint)report.Done, Total = (uint)report.Total };
            if (report.Finding is { } finding) progress.Finding = new RebuildFinding { EditionId = finding.EditionId, Difference = finding.Difference };
            if (report.Result is { } result)
            {
                progress.Result = new RebuildResult
                {
                    Generation = (ulong)(result.Generation ?? 0), Editions = (uint)result.Editions, Differing = (uint)result.Differing,
                    PortsChanged = (uint)result.PortsChanged, IndexRowsWritten = (uint)(result.IndexChanges?.RowsWritten ?? 0),
                    IndexRowsDeleted = (uint)(result.IndexChanges?.RowsDeleted ?? 0), IndexRewritten = result.Generation is not null && result.IndexChanges is null,
                };
            }

            await responseStream.WriteAsync(progress, context.CancellationToken);
        }
    }

    private static ImportEditionProgress ToProgress(ImportReport report)
    {
        var progress = new ImportEditionProgress
        {
            Stage = report.Stage, Message = report.Message, Done = (uint)report.Done, Total = (uint)report.Total, Generation = (ulong)report.Generation,
        };
        if (report.Parsed is { } parsed)
        {
            progress.Edition = Registry.Model.EditionOverview.Of(parsed).ToProto();
            progress.Warnings.AddRange(parsed.Warnings.Take(WarningsShown).Select(w => w.ToProto()));
        }

        if (report.Edition is { } stored) progress.Edition = stored.Summary.ToProto(stored.CommittedAt);
        return progress;
    }

    private async Task<(byte[] Bytes, string Source)> ReceiveAsync(ImportEditionHeader header, IAsyncStreamReader<ImportEditionRequest> requestStream,
        CancellationToken cancellation)
    {
        var limit = options.Value.MaxEditionBytes;
        if (header.ServerPath.Length > 0)
        {
            if (await requestStream.MoveNext(cancellation)) throw Requests.Invalid("chunk", "send no file bytes together with server_path");
            return await import.ReadServerFileAsync(Requests.Text(header.ServerPath, "server_path", 4096), cancellation);
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
}
