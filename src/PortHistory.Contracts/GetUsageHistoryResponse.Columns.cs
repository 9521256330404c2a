namespace PortHistory.Contracts.V1;

public sealed partial class GetUsageHistoryResponse
{
    /// <summary>
    /// Turns an answer in columns into the same answer in points, in place: what a client that asked for columns (for
    /// their size on the wire) hands to code that reads points. An answer in points is left as it is.
    /// </summary>
    /// <exception cref="InvalidDataException">The columns do not fit the buckets.</exception>
    public GetUsageHistoryResponse WithPoints()
    {
        if (Buckets.Count == 0) return this;
        foreach (var series in Series)
        {
            if (series.Columns is null) continue;
            series.Points.AddRange(series.Columns.ToPoints(Buckets, series.Total ? "total" : series.Other ? "other" : series.ProcessName));
            series.Columns = null;
        }

        if (ReportingColumns is not null)
        {
            ReportingHosts.AddRange(ReportingColumns.ToPoints(Buckets, "reporting hosts"));
            ReportingColumns = null;
        }

        Buckets.Clear();
        return this;
    }
}
