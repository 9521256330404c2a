using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PortHistory.Testing.Chaos;

/// <summary>
/// A TCP relay between servers and PostgreSQL that can cut a connection at the worst moment: after PostgreSQL has
/// received a COMMIT of a transaction that wrote a given table, and before its answer reaches the client. The commit
/// has happened; the client sees only a dead connection (an ambiguous commit).
/// </summary>
public sealed class PostgresProxy : IAsyncDisposable
{
    private static readonly byte[] Commit = Encoding.ASCII.GetBytes("COMMIT\0");
    private readonly TcpListener _listener;
    private readonly int _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private byte[]? _marker;
    private int _cutsLeft;
    private int _cuts;

    public PostgresProxy(int targetPort)
    {
        _target = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>Connections cut at a commit so far.</summary>
    public int Cuts => Volatile.Read(ref _cuts);

    /// <summary>The next <paramref name="count"/> commits of transactions that sent <paramref name="table"/> are cut.</summary>
    public void CutCommitsOf(string table, int count)
    {
        _marker = Encoding.ASCII.GetBytes(table);
        Volatile.Write(ref _cutsLeft, count);
    }

    /// <summary>A connection string of <paramref name="postgres"/> for one database, through this relay.</summary>
    public string ConnectionString(PostgresServer postgres, string database) =>
        postgres.ConnectionString(database).Replace($"Port={postgres.Port};", $"Port={Port};", StringComparison.Ordinal);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using var _ = client;
        using var server = new TcpClient();
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // PostgreSQL is down: the client sees its connection refused, as it would without the relay.
            return;
        }

        client.NoDelay = server.NoDelay = true;
        using var connection = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        // Set when a commit of a marked transaction was forwarded: PostgreSQL's next answer is dropped with the connection.
        var cutAtAnswer = 0;
        var toServer = PumpAsync(client.GetStream(), server.GetStream(), connection, upstream: true);
        var toClient = PumpAsync(server.GetStream(), client.GetStream(), connection, upstream: false);
        await Task.WhenAny(toServer, toClient);
        await connection.CancelAsync();
        client.Client.Close(0);
        server.Client.Close(0);
        await Task.WhenAll(toServer, toClient);

        async Task PumpAsync(NetworkStream from, NetworkStream to, CancellationTokenSource cancel, bool upstream)
        {
            var buffer = new byte[64 * 1024];
            // Bytes of the current transaction seen so far, searched for the marker only while a cut is wanted.
            var marked = false;
            var tail = Array.Empty<byte>();
            try
            {
                while (true)
                {
                    var read = await from.ReadAsync(buffer, cancel.Token);
                    if (read == 0) return;
                    if (!upstream && Volatile.Read(ref cutAtAnswer) == 1)
                    {
                        Interlocked.Increment(ref _cuts);
                        return;
                    }

                    if (upstream && _marker is { } marker && Volatile.Read(ref _cutsLeft) > 0)
                    {
                        // The chunk is searched together with the end of the previous one, so a name split between reads is found.
                        var window = tail.Concat(buffer.AsSpan(0, read).ToArray()).ToArray();
                        marked |= window.AsSpan().IndexOf(marker) >= 0;
                        if (window.AsSpan().IndexOf(Commit) >= 0)
                        {
                            if (marked && Interlocked.Decrement(ref _cutsLeft) >= 0) Volatile.Write(ref cutAtAnswer, 1);
                            marked = false;
                            tail = [];
                        }
                        else
                        {
                            tail = window[Math.Max(0, window.Length - 64)..];
                        }
                    }

                    await to.WriteAsync(buffer.AsMemory(0, read), cancel.Token);
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
