using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using PortHistory.Testing;

namespace PortHistory.Server.Tests;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class LocalRunnerTests
{
    /// <summary>A process as /proc knows it: its id and start time, so that a reused id is not taken for it.</summary>
    public readonly record struct ProcessIdentity(int Pid, long StartTime);

    /// <summary>One run of the script under its own pseudo-terminal.</summary>
    public sealed class Run(Workspace workspace, Process terminal) : IAsyncDisposable
    {
        private readonly StringBuilder _output = new();
        private readonly List<(string Text, Func<Task> Action)> _triggers = [];

        public Process Terminal => terminal;

        /// <summary>The bash process running run-local.sh (the pty session's leader).</summary>
        public int Script { get; private set; }

        public ProcessIdentity Server { get; private set; }

        public ProcessIdentity Postmaster { get; private set; }

        /// <summary>What the terminal showed so far, without colours and carriage returns.</summary>
        public string Output
        {
            get
            {
                lock (_output) return Plain(_output.ToString());
            }
        }

        internal void Listen()
        {
            terminal.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                List<Func<Task>> due;
                lock (_output)
                {
                    _output.Append(e.Data).Append('\n');
                    var line = Plain(e.Data);
                    due = [.. _triggers.Where(t => line.Contains(t.Text, StringComparison.Ordinal)).Select(t => t.Action)];
                    _triggers.RemoveAll(t => line.Contains(t.Text, StringComparison.Ordinal));
                }

                foreach (var action in due) action().GetAwaiter().GetResult();
            };
            terminal.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (_output) _output.Append(e.Data).Append('\n');
            };
            terminal.BeginOutputReadLine();
            terminal.BeginErrorReadLine();
        }

        /// <summary>Runs the action as soon as a line with the text is shown.</summary>
        public void WhenOutput(string text, Func<Task> action)
        {
            lock (_output) _triggers.Add((text, action));
        }

        /// <summary>Keys typed in the terminal: "\x03" is Ctrl-C, which the pty turns into SIGINT.</summary>
        public async Task TypeAsync(string keys)
        {
            await terminal.StandardInput.WriteAsync(keys);
            await terminal.StandardInput.FlushAsync();
        }

        internal async Task WaitUntilServingAsync()
        {
            var deadline = DateTime.UtcNow + Serving;
            while (!Output.Contains("Ctrl-C stops the server and PostgreSQL.", StringComparison.Ordinal))
            {
                if (terminal.HasExited || DateTime.UtcNow > deadline)
                {
                    throw new Xunit.Sdk.XunitException($"run-local.sh did not get to serving:\n{Output}");
                }

                await Task.Delay(50);
            }

            Script = Workspace.Children(terminal.Id).Single(pid => Workspace.CommandLine(pid).Contains("run-local.sh", StringComparison.Ordinal));
            var server = Workspace.Descendants(Script).Where(pid => Workspace.CommandLine(pid).Contains("PortHistory.Server.dll", StringComparison.Ordinal)).ToList();
            Server = Workspace.Identity(Assert.Single(server))!.Value;
            var postmaster = int.Parse(File.ReadLines(Path.Combine(workspace.Data, "postgres", "postmaster.pid")).First(), CultureInfo.InvariantCulture);
            Assert.Contains($"-D {workspace.Data}/postgres", Workspace.CommandLine(postmaster), StringComparison.Ordinal);
            Postmaster = Workspace.Identity(postmaster)!.Value;
        }

        /// <summary>Waits for the terminal to close (the script's end) and gives the script's exit status.</summary>
        public async Task<int> ExitAsync(TimeSpan timeout)
        {
            using var cancel = new CancellationTokenSource(timeout);
            try
            {
                await terminal.WaitForExitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"run-local.sh did not end within {timeout}:\n{Output}");
            }

            return terminal.ExitCode;
        }

        /// <summary>The server and the postmaster are gone once the script has ended (at most the moment a process takes to exit).</summary>
        public async Task AssertStoppedAsync()
        {
            await Workspace.GoneAsync(Server, TimeSpan.FromSeconds(5), Output);
            await Workspace.GoneAsync(Postmaster, TimeSpan.FromSeconds(5), Output);
        }

        public async ValueTask DisposeAsync()
        {
            // Only after a failed case: nothing the script started may outlive the test.
            if (!terminal.HasExited) Workspace.Kill(terminal.Id, "KILL");
            await terminal.WaitForExitAsync();
            if (Script != 0) await Workspace.GoneAsync(Script, Stopping);
            foreach (var left in new[] { Server, Postmaster })
            {
                if (left.Pid != 0 && Workspace.Identity(left.Pid) == left) Workspace.Kill(left.Pid, "KILL");
            }

            terminal.Dispose();
        }

        private static string Plain(string text) => AnsiEscape().Replace(text, "").Replace("\r", "", StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\x1b(\[[0-9;?]*[A-Za-z]|[=>])")]
    private static partial Regex AnsiEscape();
}
