using System.Net;
using System.Net.Sockets;

namespace AuthFunctions.Tests.Infrastructure;

internal static class FreePort
{
    private static int _next = 20000 + (Environment.ProcessId % 400) * 25;

    /// <summary>
    /// A loopback port below 32768 that nothing listens on now: the ephemeral range above it is where the kernel picks
    /// outgoing connections' ports, so a server there could find its port taken between this check and its bind.
    /// </summary>
    public static int Next()
    {
        while (true)
        {
            int port = 20000 + (Interlocked.Increment(ref _next) - 20000) % 12000;
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: try the next one.
            }
        }
    }

    public static async Task<bool> WaitUntilListeningAsync(int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        return false;
    }
}
