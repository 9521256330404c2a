using PortHistory.Contracts.V1;

namespace PortHistory.Cli.UsageFiles;

public enum UsageFileFormat
{
    Csv,
    Ndjson,
}

/// <summary>What a first reading of a usage file found: how many rows, or why it cannot be loaded.</summary>
public sealed record UsageFileCheck(long Rows, IReadOnlyList<UsageFileError> Errors, bool TooManyRows);

/// <summary>
/// A usage file to load: read once to check every row (nothing is sent from a file with a bad row), then again to send
/// the rows in messages small enough for the server, so that a large file is never held in memory.
/// </summary>
public sealed class UsageFile(string path)
{
    /// <summary>The most rows one load holds (the server's UsageLoad.MaxRows).</summary>
    public const int MaxRows = 1_000_000;

    /// <summary>Errors reported before reading stops.</summary>
    public const int MaxErrors = 20;

    /// <summary>
    /// The server reads at most 64 KiB per message of a load; a row is at most about 13 KiB (a 4,096-character
    /// executable), so a message is closed once it passes this.
    /// </summary>
    public const int MessageBytes = 40 * 1024;

    public const int MessageRows = 5_000;

    public string Path { get; } = path;

    /// <summary>By extension (.csv; .ndjson or .jsonl), else by content: a first character "{" is NDJSON.</summary>
    public UsageFileFormat Format
    {
        get
        {
            var extension = System.IO.Path.GetExtension(Path).ToLowerInvariant();
            if (extension == ".csv") return UsageFileFormat.Csv;
            if (extension is ".ndjson" or ".jsonl") return UsageFileFormat.Ndjson;
            using var reader = new StreamReader(Path);
            int c;
            while ((c = reader.Read()) >= 0 && char.IsWhiteSpace((char)c))
            {
            }

            return c == '{' ? UsageFileFormat.Ndjson : UsageFileFormat.Csv;
        }
    }

    public IEnumerable<UsageFileEntry> Entries()
    {
        var format = Format;
        using var reader = new StreamReader(Path);
        foreach (var entry in format == UsageFileFormat.Csv ? UsageCsv.Read(reader) : UsageNdjson.Read(reader)) yield return entry;
    }

    /// <summary>Reads every row, stopping at <see cref="MaxErrors"/> errors or past <see cref="MaxRows"/> rows.</summary>
    public UsageFileCheck Check(Action<long>? rowsRead = null, CancellationToken cancellationToken = default)
    {
        var rows = 0L;
        var errors = new List<UsageFileError>();
        foreach (var entry in Entries())
        {
            // Bad rows count too: the bound is on the file's data rows, as the server's is on the rows it reads.
            if (rows + errors.Count >= MaxRows) return new UsageFileCheck(rows, errors, TooManyRows: true);
            if (entry.Error is { } error)
            {
                errors.Add(error);
                if (errors.Count >= MaxErrors) break;
                continue;
            }

            if (++rows % 10_000 == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                rowsRead?.Invoke(rows);
            }
        }

        return new UsageFileCheck(rows, errors, TooManyRows: false);
    }

    /// <summary>The rows again, in messages for the load; a line that no longer reads as it did is an error.</summary>
    public IEnumerable<LoadUsageHistoryRequest> Messages(string source, Action<long>? rowsSent = null)
    {
        var message = new LoadUsageHistoryRequest { Source = source };
        var bytes = message.CalculateSize();
        var sent = 0L;
        foreach (var entry in Entries())
        {
            if (entry.Error is { } error) throw new InvalidDataException($"{Path} changed while it was sent: {error}; nothing was loaded");
            var row = entry.Row!;
            message.Rows.Add(row);
            // The row's tag, its length and itself: the message's size without measuring it all again.
            var size = row.CalculateSize();
            bytes += 1 + Google.Protobuf.CodedOutputStream.ComputeLengthSize(size) + size;
            if (message.Rows.Count < MessageRows && bytes < MessageBytes) continue;
            sent += message.Rows.Count;
            yield return message;
            rowsSent?.Invoke(sent);
            message = new LoadUsageHistoryRequest();
            bytes = 0;
        }

        if (message.Rows.Count == 0 && sent > 0) yield break;
        yield return message;
        rowsSent?.Invoke(sent + message.Rows.Count);
    }
}
