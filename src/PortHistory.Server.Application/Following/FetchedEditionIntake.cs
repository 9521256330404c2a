using System.Text;
using PortHistory.Registry.Formats;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;
using PortHistory.Server.Application.Import;
using PortHistory.Server.Application.Registry;

namespace PortHistory.Server.Application.Following;

/// <summary>What became of a fetched body.</summary>
public abstract record IntakeOutcome
{
    /// <summary>The same bytes are an edition already (by SHA-256).</summary>
    public sealed record Known(string EditionId) : IntakeOutcome;

    /// <summary>Recorded as a pending edition; the importer applies it.</summary>
    public sealed record Submitted(string EditionId, DateOnly Date, string? Remark) : IntakeOutcome;

    /// <summary>Not an edition to add: the reason, for the log, the follow state and the metrics.</summary>
    public sealed record Refused(string Reason) : IntakeOutcome;
}

/// <summary>
/// Turns a fetched body into a pending edition, or refuses it with a reason: an HTML page served with 200, a file
/// that is not a readable registry edition (truncated, an XML bomb, another format), or one dated before the newest
/// edition (a stale copy: the registry never goes back). A new version that keeps the date of the newest edition is
/// kept as a revision of that day (its id suffixed) rather than refused.
/// </summary>
public sealed class FetchedEditionIntake(IEditionStore editions, UploadIntake intake)
{
    public async Task<IntakeOutcome> TakeAsync(FetchResult.Body body, DateTimeOffset fetchedAt, CancellationToken cancellationToken)
    {
        if (LooksLikeHtml(body)) return new IntakeOutcome.Refused("an HTML page, not a registry edition (an error page served as a success?)");
        RegistryEdition edition;
        try
        {
            edition = EditionReader.Read(new EditionContent(body.Bytes, body.Name));
        }
        catch (EditionFormatException e)
        {
            return new IntakeOutcome.Refused($"not a readable edition: {e.Message}");
        }

        if (edition.Format is not (EditionFileFormat.IanaXml or EditionFileFormat.IanaCsv or EditionFileFormat.IanaPortNumbersText))
        {
            return new IntakeOutcome.Refused($"a {edition.Format.ToText()} file, not the IANA registry");
        }

        var stored = await editions.LoadAllAsync(cancellationToken);
        if (stored.FirstOrDefault(e => e.Sha256 == edition.Sha256) is { } known) return new IntakeOutcome.Known(known.Id);
        var newest = stored.Where(e => !e.Format.IsLocal())
            .Select(e => new EditionIdentity(e.Id, e.EffectiveDate, e.Format, e.Title))
            .Order(Comparer<EditionIdentity>.Create(HistoryOrder.Compare))
            .LastOrDefault();
        if (newest is not null && edition.EffectiveDate < newest.Date)
        {
            return new IntakeOutcome.Refused(
                $"dated {edition.EffectiveDate:yyyy-MM-dd}, before the newest edition {newest.Id} ({newest.Date:yyyy-MM-dd}): a stale copy; the registry does not go back");
        }

        var origin = new EditionOrigin(body.Location, fetchedAt, body.ETag, body.LastModified);
        var outcome = await intake.SubmitAsync(edition with { Source = body.Location }, body.Bytes, origin, cancellationToken, revisionOfDay: true);
        return outcome.Result switch
        {
            SubmitResult.Queued => new IntakeOutcome.Submitted(outcome.EditionId, edition.EffectiveDate, outcome.EditionId == edition.Id ? null : "a revision of the same day"),
            SubmitResult.AlreadyImported => new IntakeOutcome.Known(outcome.EditionId),
            _ => new IntakeOutcome.Refused($"edition id {edition.Id} and every revision of its day are taken"),
        };
    }

    /// <summary>An error page rather than the registry: declared as HTML, or starting like one.</summary>
    private static bool LooksLikeHtml(FetchResult.Body body)
    {
        if (body.ContentType is { } type && type.Contains("html", StringComparison.OrdinalIgnoreCase)) return true;
        var head = Encoding.UTF8.GetString(body.Bytes, 0, Math.Min(body.Bytes.Length, 512)).TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        return head.StartsWith("<!doctype html", StringComparison.OrdinalIgnoreCase) || head.StartsWith("<html", StringComparison.OrdinalIgnoreCase);
    }
}
