using System.Collections.Concurrent;
using System.Text.Json;
using Grpc.Core;
using PortHistory.Contracts.V1;

namespace PortHistory.Cli.Tests;

/// <summary>`porthistory watch`: its filters go into the request, and when the server becomes unavailable mid-stream it watches again after the last cursor.</summary>
public sealed class WatchVerbTests
{
    [Fact]
    public async Task A_stream_lost_as_unavailable_is_opened_again_after_the_last_cursor_and_prints_each_event_once()
    {
        var observations = new DroppingObservations();
        await using var server = await FakeGrpcServer.StartAsync(observations);
        using var output = new LineCountingWriter(3);
        using var error = new StringWriter();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = Cli.CliApp.RunAsync(["watch", "--server", server.Address, "--token", "t", "--port", "770-777", "--transport", "udp",
            "--kind", "verdict-changed", "--verdict", "squatter", "--process", "rpc.statd", "--json"], output, error, stop.Token);

        await observations.SecondCallDone.Task.WaitAsync(stop.Token);
        // The third event is on its way to the output.
        await output.Written.WaitAsync(stop.Token);
        await stop.CancelAsync();
        await run;

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(new ulong[] { 1, 2, 3 }, lines.Select(l => l.GetProperty("cursor").GetUInt64()));
        Assert.All(lines, l => Assert.Equal("verdict-changed", l.GetProperty("kind").GetString()));
        Assert.Equal("squatter", lines[0].GetProperty("newVerdict").GetString());
        Assert.Contains("after cursor 2", error.ToString());

        var requests = observations.Requests.ToList();
        Assert.Equal(2, requests.Count);
        Assert.False(requests[0].HasAfterCursor);
        Assert.Equal(2ul, requests[1].AfterCursor);
        Assert.All(requests, r =>
        {
            Assert.Equal((770u, 777u), (r.Ports.Single().First, r.Ports.Single().Last));
            Assert.Equal(Transport.Udp, r.Transports.Single());
            Assert.Equal(WatchEventKind.VerdictChanged, r.Kinds.Single());
            Assert.Equal(VerdictKind.Squatter, r.Verdicts.Single());
            Assert.Equal("rpc.statd", r.ProcessNames.Single());
        });
    }

    /// <summary>Text written by the verb (from its own thread), and a task that completes once it holds <c>lines</c> lines.</summary>
    private sealed class LineCountingWriter(int lines) : StringWriter
    {
        private readonly TaskCompletionSource _written = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _lines;

        public Task Written => _written.Task;

        public override void Write(char value)
        {
            lock (_written)
            {
                base.Write(value);
                if (value == '\n' && ++_lines == lines) _written.TrySetResult();
            }
        }

        public override void Write(char[] buffer, int index, int count)
        {
            foreach (var c in buffer.AsSpan(index, count)) Write(c);
        }

        public override void Write(ReadOnlySpan<char> buffer)
        {
            foreach (var c in buffer) Write(c);
        }

        public override void Write(string? value) => Write(value.AsSpan());

        public override void WriteLine(ReadOnlySpan<char> buffer)
        {
            Write(buffer);
            Write(CoreNewLine);
        }

        public override string ToString()
        {
            lock (_written) return base.ToString();
        }
    }

    [Fact]
    public async Task A_cursor_that_is_no_number_and_an_unknown_kind_are_bad_usage()
    {
        Assert.Equal(2, (await CliRun.RunAsync("watch", "--server", "http://127.0.0.1:1", "--since", "abc")).ExitCode);
        var kind = await CliRun.RunAsync("watch", "--server", "http://127.0.0.1:1", "--kind", "everything");
        Assert.Equal(2, kind.ExitCode);
        Assert.Contains("new-process", kind.Error);
    }

    /// <summary>The first stream sends two events and fails Unavailable; the second sends one more.</summary>
    private sealed class DroppingObservations : PortHistory.Contracts.V1.Observations.ObservationsBase
    {
        public ConcurrentQueue<WatchRequest> Requests { get; } = new();

        public TaskCompletionSource SecondCallDone { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task Watch(WatchRequest request, IServerStreamWriter<WatchResponse> responseStream, ServerCallContext context)
        {
            Requests.Enqueue(request);
            var from = request.HasAfterCursor ? request.AfterCursor : 0;
            await responseStream.WriteAsync(new WatchResponse { Cursor = from });
            var last = Requests.Count == 1 ? 2ul : 3ul;
            for (var cursor = from + 1; cursor <= last; cursor++)
            {
                await responseStream.WriteAsync(new WatchResponse { Cursor = cursor, Event = Changed(cursor) });
            }

            if (Requests.Count == 1) throw new RpcException(new Status(StatusCode.Unavailable, "gateway restarting"));
            SecondCallDone.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }

        private static WatchEvent Changed(ulong cursor) => new()
        {
            Cursor = cursor, EventId = $"verdict:776:2:{cursor}:2", Kind = WatchEventKind.VerdictChanged, Port = 776, Transport = Transport.Udp,
            OldVerdict = VerdictKind.Unregistered, NewVerdict = VerdictKind.Squatter, Reason = "assigned to wpages, but observed rpc.statd",
            RaisedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow),
        };
    }
}
