using PortHistory.Benchmarks;

// One command per benchmark; each prints a table with its baseline measured in the same run.
var which = args.FirstOrDefault() ?? "help";
switch (which)
{
    case "registry":
        RegistryBenchmark.Run(Console.Out);
        return 0;
    default:
        Console.Error.WriteLine("usage: dotnet run -c Release --project tests/PortHistory.Benchmarks -- registry");
        return 2;
}
