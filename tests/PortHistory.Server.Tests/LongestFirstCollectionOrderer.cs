using Xunit.Abstractions;

[assembly: TestCollectionOrderer("PortHistory.Server.Tests.LongestFirstCollectionOrderer", "PortHistory.Server.Tests")]

namespace PortHistory.Server.Tests;

/// <summary>
/// Starts the two long collections of server tests first: the run lasts as long as the longer of them, so the short
/// collections (one class each, most of them) fill in beside them rather than delay them.
/// </summary>
public sealed class LongestFirstCollectionOrderer : ITestCollectionOrderer
{
    private static readonly string[] Longest = [OwnServerCollection.Name, ServerCollection.Name];

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections.OrderBy(c => Array.IndexOf(Longest, c.DisplayName) is var i and >= 0 ? i : Longest.Length)
            .ThenBy(c => c.DisplayName, StringComparer.Ordinal);
}
