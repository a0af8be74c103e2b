using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>One message as maildev's HTTP API returns it.</summary>
public sealed record DeliveredEmail(string To, string Subject, string Text, string Html)
{
    /// <summary>The <c>token</c> query parameter of the first link in the text body that opens <paramref name="page"/>.</summary>
    public string LinkToken(string page)
    {
        var match = System.Text.RegularExpressions.Regex.Match(Text, $@"https?://\S+/{page}\?token=([A-Za-z0-9_.%-]+)");
        Assert.True(match.Success, $"no {page} link in the email");
        return Uri.UnescapeDataString(match.Groups[1].Value);
    }

    public string Link(string page)
    {
        var match = System.Text.RegularExpressions.Regex.Match(Text, $@"https?://\S+/{page}\?token=[A-Za-z0-9_.%-]+");
        Assert.True(match.Success, $"no {page} link in the email");
        return match.Value;
    }
}

/// <summary>
/// A real SMTP server, maildev (from the repository's node_modules), on free loopback ports; delivered
/// messages are read through its HTTP API (<c>GET /api/email</c>). Stopped by its process id.
/// </summary>
public sealed class MailDevServer : IAsyncDisposable
{
    private static readonly Lazy<Task<MailDevServer>> SharedInstance = new(async () =>
    {
        var server = new MailDevServer();
        await server.StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Kill();
        return server;
    });

    private readonly HttpClient _api;
    private Process? _process;

    public MailDevServer()
    {
        SmtpPort = FreePort.Next();
        WebPort = FreePort.Next();
        _api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{WebPort}/") };
    }

    /// <summary>One maildev for the whole run; tests tell their messages apart by their unique recipient addresses.</summary>
    public static Task<MailDevServer> Shared => SharedInstance.Value;

    public int SmtpPort { get; }

    public int WebPort { get; }

    /// <summary>The app's Email settings for this server; links point at <paramref name="linkBaseUrl"/>.</summary>
    public Dictionary<string, string?> Settings(string linkBaseUrl = "https://app.example.test/") => new()
    {
        ["Email:SmtpHost"] = "127.0.0.1",
        ["Email:SmtpPort"] = SmtpPort.ToString(CultureInfo.InvariantCulture),
        ["Email:UseTls"] = "false",
        ["Email:From"] = "AuthFunctions Tests <no-reply@example.test>",
        ["Email:LinkBaseUrl"] = linkBaseUrl,
        ["Email:TimeoutSeconds"] = "5",
    };

    public async Task StartAsync()
    {
        string executable = Path.Combine(RepositoryRoot.Path, "node_modules", ".bin", "maildev");
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException($"maildev is not installed at {executable}: run 'npm ci' in the repository root.");
        }
        // A small shell watchdog ends maildev when this test process is gone, even if it exits without running
        // its ProcessExit handlers (maildev, unlike Azurite, otherwise outlives an abruptly ended test host).
        var start = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("\"$0\" --smtp \"$1\" --ip 127.0.0.1 --web \"$2\" --web-ip 127.0.0.1 & child=$!; " +
            "while kill -0 \"$3\" 2>/dev/null && kill -0 \"$child\" 2>/dev/null; do sleep 1; done; kill \"$child\" 2>/dev/null");
        foreach (var argument in new[] { executable, SmtpPort.ToString(CultureInfo.InvariantCulture), WebPort.ToString(CultureInfo.InvariantCulture), Environment.ProcessId.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("maildev did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (!await FreePort.WaitUntilListeningAsync(SmtpPort, TimeSpan.FromSeconds(30)) || !await FreePort.WaitUntilListeningAsync(WebPort, TimeSpan.FromSeconds(30)))
        {
            Kill();
            throw new InvalidOperationException($"maildev did not listen on ports {SmtpPort}/{WebPort} within 30 s.");
        }
    }

    /// <summary>Every message delivered so far to <paramref name="address"/>, oldest first.</summary>
    public async Task<IReadOnlyList<DeliveredEmail>> MessagesToAsync(string address)
    {
        var all = await _api.GetFromJsonAsync<JsonElement>("api/email");
        var messages = new List<DeliveredEmail>();
        foreach (var message in all.EnumerateArray())
        {
            if (message.GetProperty("to").EnumerateArray().Any(to => string.Equals(to.GetProperty("address").GetString(), address, StringComparison.OrdinalIgnoreCase)))
            {
                messages.Add(new DeliveredEmail(address, message.GetProperty("subject").GetString() ?? "",
                    message.TryGetProperty("text", out var text) ? text.GetString() ?? "" : "",
                    message.TryGetProperty("html", out var html) ? html.GetString() ?? "" : ""));
            }
        }
        return messages;
    }

    /// <summary>Waits (up to 15 s) until <paramref name="count"/> messages reached <paramref name="address"/>; returns the newest.</summary>
    public async Task<DeliveredEmail> WaitForMessageAsync(string address, int count = 1)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var messages = await MessagesToAsync(address);
            if (messages.Count >= count)
            {
                return messages[^1];
            }
            Assert.True(DateTime.UtcNow < deadline, $"{count} message(s) to the test address did not arrive within 15 s (got {messages.Count}).");
            await Task.Delay(50);
        }
    }

    private void Kill()
    {
        try
        {
            if (_process is { HasExited: false })
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _api.Dispose();
        if (_process is { } process)
        {
            Kill();
            await process.WaitForExitAsync();
            process.Dispose();
            _process = null;
        }
    }
}
