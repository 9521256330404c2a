using PortHistory.Benchmarks;

// One command per benchmark; each prints a table with its baseline measured in the same run.
var which = args.FirstOrDefault() ?? "help";
switch (which)
{
    case "registry":
        RegistryBenchmark.Run(Console.Out);
        return 0;
    case "server":
        await ServerBenchmark.RunAsync(Console.Out, Seconds(args, 10), args.Length > 2 && int.TryParse(args[2], out var rounds) && rounds > 0 ? rounds : 3);
        return 0;
    case "ingest":
        await IngestBenchmark.RunAsync(Console.Out, Seconds(args, 10));
        return 0;
    default:
        Console.Error.WriteLine("usage: dotnet run -c Release --project tests/PortHistory.Benchmarks -- registry | server [seconds [rounds]] | ingest [seconds]");
        return 2;
}

static int Seconds(string[] args, int fallback) =>
    args.Length > 1 && int.TryParse(args[1], out var seconds) ? seconds : fallback;
