using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// One instance's network link to a server, as a TCP relay on a free loopback port that the test can break: point an
/// instance at <see cref="Port"/> instead of the server's and only that instance loses it. <see cref="Cut"/> resets
/// every connection and every new one (a link that is down); <see cref="Stall"/> keeps connections open and accepts new
/// ones but carries no byte either way (a partition: packets vanish, nothing is refused); <see cref="Restore"/> carries
/// bytes again, the held ones first.
/// </summary>
public sealed class TcpLink : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, FreePort.Next());
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Socket, bool> _open = new();
    private readonly Lock _stateLock = new();
    private readonly Task _accepting;
    private TaskCompletionSource _flowing = NewFlowing(open: true);
    private bool _cut;

    private TcpLink(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    /// <summary>Relays connections to <c>127.0.0.1:<paramref name="targetPort"/></c>.</summary>
    public static TcpLink To(int targetPort) => new(targetPort);

    public int Port { get; }

    /// <summary>Resets every open connection, and every new one until <see cref="Restore"/>.</summary>
    public void Cut()
    {
        lock (_stateLock)
        {
            _cut = true;
        }
        foreach (var socket in _open.Keys)
        {
            Reset(socket);
        }
    }

    /// <summary>Holds every byte in both directions, on open connections and new ones, until <see cref="Restore"/>.</summary>
    public void Stall()
    {
        lock (_stateLock)
        {
            if (_flowing.Task.IsCompleted)
            {
                _flowing = NewFlowing(open: false);
            }
        }
    }

    public void Restore()
    {
        lock (_stateLock)
        {
            _cut = false;
            _flowing.TrySetResult();
        }
    }

    private static TaskCompletionSource NewFlowing(bool open)
    {
        var flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (open)
        {
            flowing.SetResult();
        }
        return flowing;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || (e is SocketException && _stop.IsCancellationRequested))
            {
                return;
            }
            catch (SocketException)
            {
                continue; // a connection that went away before it was accepted: the link stays up
            }
            bool cut;
            lock (_stateLock)
            {
                cut = _cut;
            }
            if (cut)
            {
                Reset(client);
                continue;
            }
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        _open[client] = true;
        _open[server] = true;
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
            await Task.WhenAny(PumpAsync(client, server), PumpAsync(server, client));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Cut, or one side went away: both are closed below.
        }
        finally
        {
            _open.TryRemove(client, out _);
            _open.TryRemove(server, out _);
            client.Dispose();
            server.Dispose();
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        byte[] buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                Task flowing;
                lock (_stateLock)
                {
                    flowing = _flowing.Task;
                }
                await flowing.WaitAsync(_stop.Token);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The relay ends: RelayAsync closes both sockets.
        }
    }

    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var socket in _open.Keys)
        {
            Reset(socket);
        }
        await _accepting;
        _stop.Dispose();
    }
}
