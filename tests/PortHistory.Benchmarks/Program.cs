using PortHistory.Benchmarks;
using PortHistory.Testing;

// One command per benchmark; each prints a table with its baseline measured in the same run.
// Servers run with the runtime's defaults, as in production (tests turn tiered PGO off for their short-lived servers).
ServerProcess.RuntimeSettings.Clear();
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
        // An earlier build's server (its PortHistory.Server.dll) is measured in the same run when given.
        await IngestBenchmark.RunAsync(Console.Out, Seconds(args, 10), args.Length > 2 ? Path.GetFullPath(args[2]) : null);
        return 0;
    case "fuzz":
        return await FuzzBenchmark.RunAsync(Console.Out, args.Length > 1 && int.TryParse(args[1], out var messages) ? messages : 200_000,
            args.Length > 2 && ulong.TryParse(args[2], out var seed) ? seed : WireFuzz.SeedFromEnvironment());
    case "agent":
        // An earlier build's agent (its porthistory-agent.dll) is measured in the same run when given.
        await AgentBenchmark.RunAsync(Console.Out, args.Length > 1 ? Path.GetFullPath(args[1]) : null);
        return 0;
    case "watch":
        await WatchBenchmark.RunAsync(Console.Out, Seconds(args, 10), args.Length > 2 && int.TryParse(args[2], out var watchers) && watchers > 0 ? watchers : 1000);
        return 0;
    case "metrics":
        // Settings to compare beside off and on come as NAME=KEY=VALUE[;KEY=VALUE] arguments after seconds and rounds.
        await MetricsBenchmark.RunAsync(Console.Out, Seconds(args, 5), args.Length > 2 && int.TryParse(args[2], out var turns) && turns > 0 ? turns : 3,
        [
            ("off", new() { ["PortHistory__Metrics__Enabled"] = "false" }),
            ("on", []),
            .. args.Skip(3).Select(a => a.Split('=', 2)).Select(a => (a[0], a[1].Split(';').Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]))),
        ]);
        return 0;
    case "history":
        await HistoryBenchmark.RunAsync(Console.Out, args.Length > 1 && int.TryParse(args[1], out var versions) && versions > 16 ? versions : 250);
        return 0;
    case "fleet":
        // Hosts, then seconds of steady load.
        return await FleetBenchmark.RunAsync(Console.Out, args.Length > 1 && int.TryParse(args[1], out var hosts) && hosts > 0 ? hosts : 20_000, SecondsAt(args, 2, 40));
    case "usage":
        // Years of the whole fleet's history to load (the busy port's is always ten).
        await UsageBenchmark.RunAsync(Console.Out, args.Length > 1 && int.TryParse(args[1], out var years) && years is > 0 and <= 10 ? years : 1);
        return 0;
    case "chaos":
        await ChaosBenchmark.RunAsync(Console.Out, Seconds(args, 20));
        return 0;
    default:
        Console.Error.WriteLine("usage: dotnet run -c Release --project tests/PortHistory.Benchmarks -- registry | server [seconds [rounds]] | ingest [seconds [previous PortHistory.Server.dll]] | fuzz [messages [seed]] | metrics [seconds [rounds [NAME=KEY=VALUE;...]...]] | watch [seconds [streams]] | history [versions] | chaos [seconds] | agent [previous porthistory-agent.dll] | fleet [hosts [seconds]] | usage [years]");
        return 2;
}

static int Seconds(string[] args, int fallback) => SecondsAt(args, 1, fallback);

static int SecondsAt(string[] args, int index, int fallback) =>
    args.Length > index && int.TryParse(args[index], out var seconds) ? seconds : fallback;
