using System.Globalization;
using System.Text.Json;
using PortHistory.Contracts.V1;
using PortHistory.Registry.Model;
using PortHistory.Registry.Protobuf;

namespace PortHistory.Cli.Output;

/// <summary>A server's editions with where each came from, and a rebuild's report.</summary>
public static class EditionRenderers
{
    public static void Editions(TextWriter output, IReadOnlyList<EditionSummary> editions, bool json)
    {
        if (json)
        {
            Json.Write(output, editions.Select(e => new
            {
                e.Id,
                Date = e.EffectiveDate.ToDomain(),
                Format = e.Format.ToDomain(),
                e.Records,
                e.Warnings,
                e.Title,
                e.Sha256,
                e.Bytes,
                ImportedAt = e.ImportedAt?.ToDateTimeOffset(),
                Origin = Empty(e.Origin),
                RetrievedAt = e.RetrievedAt?.ToDateTimeOffset(),
                ETag = Empty(e.Etag),
                LastModified = Empty(e.LastModified),
                Changes = e.HasChanges ? (uint?)e.Changes : null,
                Remark = Empty(e.Remark),
            }).ToList());
            return;
        }

        var table = new TextTable("ID", "DATE", "FORMAT", "RECORDS", "CHANGES", "ORIGIN", "RETRIEVED", "SHA256", "REMARK");
        foreach (var e in editions)
        {
            table.Add(e.Id, e.EffectiveDate.ToDomain().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), e.Format.ToDomain().ToText(),
                e.Records.ToString(CultureInfo.InvariantCulture), e.HasChanges ? (e.Changes == 0 ? "none" : e.Changes.ToString(CultureInfo.InvariantCulture)) : "",
                e.Origin.Length > 0 ? e.Origin : "upload", e.RetrievedAt?.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "",
                e.Sha256[..Math.Min(12, e.Sha256.Length)], e.Remark);
        }

        table.WriteTo(output);
    }

    public static void RebuildProgress(TextWriter output, RebuildHistoryProgress progress, bool json)
    {
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(new
            {
                progress.Message,
                Edition = progress.Finding is { } f ? f.EditionId : null,
                Difference = progress.Finding?.Difference,
                Result = progress.Result is { } r
                    ? new { Generation = r.Generation == 0 ? (ulong?)null : r.Generation, r.Editions, r.Differing, r.PortsChanged, r.IndexRowsWritten, r.IndexRowsDeleted, r.IndexRewritten }
                    : null,
            }, Json.CompactOptions));
            return;
        }

        output.WriteLine(progress.Finding is { } finding ? $"differs: {finding.EditionId}: {finding.Difference}" : progress.Message);
    }

    private static string? Empty(string text) => text.Length == 0 ? null : text;
}
