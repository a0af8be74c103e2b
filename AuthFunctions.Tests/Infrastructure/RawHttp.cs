using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// HTTP/1.1 over a plain socket, bytes exactly as written: for request targets HttpClient would
/// rewrite (percent-encoded letters) and for clients that stall or vanish mid-body.
/// </summary>
public sealed class RawHttp : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawHttp(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<RawHttp> ConnectAsync(Uri baseAddress)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        var tcp = new TcpClient();
        await tcp.ConnectAsync(baseAddress.Host, baseAddress.Port);
        return new RawHttp(tcp);
    }

    /// <summary>One request on its own connection (<c>Connection: close</c>), the response read to the end.</summary>
    public static async Task<RawResponse> SendAsync(Uri baseAddress, string method, string target, string? body = null, IDictionary<string, string>? headers = null)
    {
        await using var raw = await ConnectAsync(baseAddress);
        var head = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            head.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }
        byte[] content = Encoding.UTF8.GetBytes(body ?? "");
        if (body is not null)
        {
            head.Append("Content-Type: application/json\r\n");
        }
        head.Append(CultureInfo.InvariantCulture, $"Content-Length: {content.Length}\r\n\r\n");
        await raw.WriteAsync(head.ToString());
        await raw.WriteAsync(content);
        return await raw.ReadResponseAsync(TimeSpan.FromSeconds(30));
    }

    public Task WriteAsync(string text) => WriteAsync(Encoding.UTF8.GetBytes(text));

    public async Task WriteAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>Ends the request stream (FIN) while still reading: a body shorter than its Content-Length.</summary>
    public void EndSending() => _tcp.Client.Shutdown(SocketShutdown.Send);

    /// <summary>Closes the connection with a reset (RST), as a client that crashes does.</summary>
    public void Reset()
    {
        _tcp.Client.LingerState = new LingerOption(true, 0);
        _tcp.Client.Close();
    }

    /// <summary>True when the server closes the connection (end of stream or reset) within <paramref name="within"/>, false when it stays open.</summary>
    public async Task<bool> ServerClosesAsync(TimeSpan within)
    {
        using var cancel = new CancellationTokenSource(within);
        byte[] buffer = new byte[1024];
        try
        {
            while (await _stream.ReadAsync(buffer, cancel.Token) > 0)
            {
            }
            return true;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>One response, or null when the server closes the connection without sending one.</summary>
    public async Task<RawResponse?> ReadResponseOrCloseAsync(TimeSpan timeout)
    {
        try
        {
            return await ReadResponseAsync(timeout);
        }
        catch (Exception e) when (e is NoResponseException or IOException)
        {
            return null;
        }
    }

    /// <summary>Reads one response: the head, then Content-Length bytes or up to the server's close.</summary>
    public async Task<RawResponse> ReadResponseAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        var watch = Stopwatch.StartNew();
        var received = new List<byte>();
        byte[] buffer = new byte[4096];
        int headEnd = -1;
        int? contentLength = null;
        bool chunked = false;
        while (true)
        {
            if (headEnd >= 0 && contentLength is { } length && received.Count >= headEnd + 4 + length)
            {
                break;
            }
            if (chunked && EndsWithLastChunk(received))
            {
                break;
            }
            int read = await _stream.ReadAsync(buffer, cancel.Token);
            if (read == 0)
            {
                break;
            }
            received.AddRange(buffer.AsSpan(0, read));
            if (headEnd < 0)
            {
                headEnd = IndexOfHeadEnd(received);
                if (headEnd >= 0)
                {
                    var parsed = ParseHead(Encoding.ASCII.GetString(received.ToArray(), 0, headEnd)).Headers;
                    contentLength = parsed.TryGetValue("content-length", out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : null;
                    chunked = parsed.TryGetValue("transfer-encoding", out var coding) && coding.Contains("chunked", StringComparison.OrdinalIgnoreCase);
                }
            }
        }
        if (headEnd < 0)
        {
            throw new NoResponseException($"The server sent no complete response head ({received.Count} bytes) before closing.");
        }
        var (status, responseHeaders) = ParseHead(Encoding.ASCII.GetString(received.ToArray(), 0, headEnd));
        byte[] content = received.Skip(headEnd + 4).ToArray();
        string responseBody = Encoding.UTF8.GetString(chunked ? Dechunk(content) : content);
        return new RawResponse(status, responseHeaders, responseBody, watch.Elapsed);
    }

    private static bool EndsWithLastChunk(List<byte> bytes) =>
        bytes.Count >= 5 && Encoding.ASCII.GetString(bytes.GetRange(bytes.Count - 5, 5).ToArray()) == "0\r\n\r\n";

    private static byte[] Dechunk(byte[] chunked)
    {
        var content = new List<byte>();
        int position = 0;
        while (position < chunked.Length)
        {
            int lineEnd = Array.IndexOf(chunked, (byte)'\n', position);
            int size = int.Parse(Encoding.ASCII.GetString(chunked, position, lineEnd - position).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (size == 0)
            {
                break;
            }
            content.AddRange(chunked.AsSpan(lineEnd + 1, size));
            position = lineEnd + 1 + size + 2;
        }
        return content.ToArray();
    }

    private static int IndexOfHeadEnd(List<byte> bytes)
    {
        for (int i = 0; i + 3 < bytes.Count; i++)
        {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n')
            {
                return i;
            }
        }
        return -1;
    }

    private static (int Status, Dictionary<string, string> Headers) ParseHead(string head)
    {
        var lines = head.Split("\r\n");
        int status = int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        return (status, headers);
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}

public sealed class NoResponseException(string message) : Exception(message);

public sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, string Body, TimeSpan Elapsed)
{
    /// <summary>
    /// The Functions host's own answer, made before any worker code ran: this status, an empty body (<c>Content-Length: 0</c>),
    /// no content type, <c>Server: Kestrel</c>, and none of the headers the worker's middleware puts on every answer it makes.
    /// </summary>
    public void AssertBareHostAnswer(int status)
    {
        Assert.True(status == Status, $"expected the host's bare {status}, got {Status}: {Body}");
        Assert.Equal("", Body);
        Assert.Equal("0", Headers.GetValueOrDefault("Content-Length"));
        Assert.False(Headers.ContainsKey("Content-Type"), $"Content-Type: {Headers.GetValueOrDefault("Content-Type")}");
        Assert.Equal("Kestrel", Headers.GetValueOrDefault("Server"));
        Assert.False(Headers.ContainsKey("X-Content-Type-Options"), "the worker's response headers: the worker answered");
        Assert.False(Headers.ContainsKey("Cache-Control"), "the worker's response headers: the worker answered");
    }

    /// <summary>The body as Problem Details (RFC 9457) with this status, and no stack trace.</summary>
    public JsonElement AssertProblem(int status)
    {
        Assert.True(status == Status, $"expected {status}, got {Status}: {Body}");
        Assert.Equal("application/problem+json", Headers.GetValueOrDefault("Content-Type")?.Split(';')[0]);
        Assert.DoesNotContain("   at ", Body, StringComparison.Ordinal);
        var json = JsonDocument.Parse(Body).RootElement;
        Assert.Equal(status, json.GetProperty("status").GetInt32());
        return json;
    }
}
