using System.Runtime.InteropServices;
using PortHistory.Agent;

using var stopping = new CancellationTokenSource();
// Ctrl-C and SIGTERM (systemd, docker stop) end the loop between or during sends instead of killing the process; a
// second signal while stopping terminates as usual.
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

return await AgentApp.RunAsync(args, Console.Out, Console.Error, stopping.Token);

void Stop(PosixSignalContext context)
{
    if (stopping.IsCancellationRequested) return;
    context.Cancel = true;
    stopping.Cancel();
}
