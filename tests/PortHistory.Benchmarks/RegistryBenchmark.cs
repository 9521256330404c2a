using System.Diagnostics;
using System.Globalization;
using System.Xml;
using CsvHelper;
using CsvHelper.Configuration;
using PortHistory.Registry.Formats;
using PortHistory.Registry.History;
using PortHistory.Registry.Model;
using PortHistory.Server.Persistence.Registry;
using PortHistory.Testing;

namespace PortHistory.Benchmarks;

/// <summary>
/// Parse speed per edition next to a baseline that only tokenizes the same bytes (lines, XmlReader, CsvParser),
/// then the time and managed memory to build the history of all sixteen editions.
/// </summary>
internal static class RegistryBenchmark
{
    private const int Rounds = 5;

    public static void Run(TextWriter output)
    {
        output.WriteLine($"PortHistory registry benchmark: {Environment.ProcessorCount} cores, .NET {Environment.Version}, data {RegistryData.Directory}");
        output.WriteLine();

        var table = new Table("edition", "format", "bytes", "records", "parse ms", "MB/s", "baseline ms", "baseline MB/s", "parse/baseline");
        foreach (var file in RegistryData.EditionFiles)
        {
            var bytes = File.ReadAllBytes(RegistryData.PathOf(file));
            var content = new EditionContent(bytes, file);
            var edition = EditionReader.Read(content);
            var parse = Median(() => EditionReader.Read(new EditionContent(bytes, file)));
            var baseline = Median(() => Tokenize(edition.Format, bytes));
            table.Add(edition.Id, edition.Format.ToText(), bytes.Length, edition.Records.Length, parse, MegabytesPerSecond(bytes.Length, parse),
                baseline, MegabytesPerSecond(bytes.Length, baseline), $"{parse / baseline:0.0}x");
        }

        table.WriteTo(output);
        output.WriteLine();

        var paths = RegistryData.EditionFiles.Select(RegistryData.PathOf).ToList();
        var totalBytes = paths.Sum(p => new FileInfo(p).Length);
        var contents = paths.Select(p => new EditionContent(File.ReadAllBytes(p), p)).ToList();
        var builds = new List<(double Parse, double Build)>();
        RegistryHistory? history = null;
        for (var round = 0; round < Rounds; round++)
        {
            history = null;
            GC.Collect();
            var clock = Stopwatch.StartNew();
            var editions = new RegistryEdition[contents.Count];
            Parallel.For(0, contents.Count, i => editions[i] = EditionReader.Read(new EditionContent(contents[i].Bytes, contents[i].SourceName)));
            var parsed = clock.Elapsed.TotalMilliseconds;
            history = RegistryHistory.Build(editions);
            builds.Add((parsed, clock.Elapsed.TotalMilliseconds - parsed));
        }

        var retained = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(history);
        var best = builds.OrderBy(b => b.Parse + b.Build).ElementAt(builds.Count / 2);
        var summary = new Table("full history (16 editions)", "value", "target");
        summary.Add("input bytes", totalBytes, "");
        summary.Add("parse all, parallel (median ms)", best.Parse, "");
        summary.Add("build history (median ms)", best.Build, "");
        summary.Add("parse + build (median ms)", best.Parse + best.Build, "< 2000");
        summary.Add("managed heap with history alive (MB)", retained / 1e6, "< 300");
        summary.Add("process peak working set (MB)", Process.GetCurrentProcess().PeakWorkingSet64 / 1e6, "");
        summary.Add("editions / versions (tcp)", $"{history!.Editions.Length} / {CountVersions(history, TransportProtocol.Tcp)}", "");
        summary.WriteTo(output);
        output.WriteLine();
        Originals(output, contents.Select(c => c.Bytes.ToArray()).ToList());
    }

    /// <summary>
    /// What storing the originals costs an import: cutting every edition into chunks, hashing and compressing each
    /// (one core), next to only hashing the same bytes.
    /// </summary>
    private static void Originals(TextWriter output, List<byte[]> files)
    {
        var compressed = 0L;
        var chunks = 0;
        var store = Median(() =>
        {
            (compressed, chunks) = (0, 0);
            foreach (var file in files)
            {
                var start = 0;
                foreach (var end in ContentChunks.Cuts(file))
                {
                    var chunk = file.AsSpan(start, end - start);
                    System.Security.Cryptography.SHA256.HashData(chunk);
                    compressed += ContentChunks.Compress(chunk).Length;
                    (chunks, start) = (chunks + 1, end);
                }
            }
        });
        var hashOnly = Median(() => files.ForEach(file => System.Security.Cryptography.SHA256.HashData(file)));
        var bytes = files.Sum(f => (long)f.Length);
        var table = new Table("originals (16 editions)", "value");
        table.Add("chunks", chunks);
        table.Add("cut, hash and compress (median ms)", store);
        table.Add("baseline: hash only (median ms)", hashOnly);
        table.Add("compressed / input bytes", $"{compressed:N0} / {bytes:N0} ({(double)bytes / compressed:0.00}:1)");
        table.WriteTo(output);
    }

    private static int CountVersions(RegistryHistory history, TransportProtocol transport)
    {
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var count = 0;
        for (var port = 0; port <= PortSpan.MaxPort; port++)
        {
            var versions = history.Timeline(port, transport).Versions;
            if (!versions.IsEmpty && seen.Add(System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsArray(versions)!)) count += versions.Length;
        }

        return count;
    }

    /// <summary>Reads the same bytes with no interpretation: the floor a parser of that format can reach.</summary>
    private static int Tokenize(EditionFileFormat format, byte[] bytes)
    {
        switch (format)
        {
            case EditionFileFormat.IanaXml:
            {
                using var reader = XmlReader.Create(new MemoryStream(bytes), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore });
                var nodes = 0;
                while (reader.Read()) nodes++;
                return nodes;
            }

            case EditionFileFormat.IanaCsv:
            {
                using var parser = new CsvParser(new StreamReader(new MemoryStream(bytes)), new CsvConfiguration(CultureInfo.InvariantCulture));
                var fields = 0;
                while (parser.Read()) fields += parser.Count;
                return fields;
            }

            default:
                return System.Text.Encoding.Latin1.GetString(bytes).Split('\n').Length;
        }
    }

    private static double Median(Action action)
    {
        action();
        var times = new List<double>();
        for (var i = 0; i < Rounds; i++)
        {
            var clock = Stopwatch.StartNew();
            action();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        return times[times.Count / 2];
    }

    private static double Median(Func<object> action) => Median(() => { action(); });

    private static double MegabytesPerSecond(long bytes, double milliseconds) => bytes / 1e6 / (milliseconds / 1000);
}
