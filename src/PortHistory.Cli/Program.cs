using PortHistory.Cli;
using Spectre.Console;

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

// Live progress only where someone watches: not when output goes to a file or a pipe, nor on a terminal that cannot
// move the cursor (TERM=dumb, CI logs).
var terminal = Console.IsOutputRedirected || AnsiConsole.Console.Profile.Capabilities is not { Ansi: true, Interactive: true } ? null : AnsiConsole.Console;

// Progress lines that rewrite themselves go to stderr only when someone watches it.
var progress = Console.IsErrorRedirected ? null : Console.Error;

return await CliApp.RunAsync(args, Console.Out, Console.Error, cancellation.Token, terminal, progress);
