using System.Diagnostics;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// A real Azurite (from the repository's node_modules, installed by <c>npm ci</c>): Blob and Queue for the Functions
/// host's own storage (timer locks), Table for the app, on free loopback ports. In memory by default; with a location it persists across
/// <see cref="StopAsync"/>/<see cref="StartAsync"/> so outage tests can check nothing is lost.
/// </summary>
public sealed class AzuriteServer : IAsyncDisposable
{
    private static readonly Lazy<Task<AzuriteServer>> SharedInstance = new(async () =>
    {
        var server = new AzuriteServer(location: null);
        await server.StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Kill();
        return server;
    });

    private readonly string? _location;
    private Process? _process;

    public AzuriteServer(string? location)
    {
        _location = location;
        Port = FreePort.Next();
        BlobPort = FreePort.Next();
        QueuePort = FreePort.Next();
    }

    public int BlobPort { get; }

    public int QueuePort { get; }

    /// <summary>One in-memory Azurite for the whole test run; tests isolate themselves with table prefixes.</summary>
    public static Task<AzuriteServer> Shared => SharedInstance.Value;

    public int Port { get; }

    /// <summary>Azurite's well-known development account (public, documented by Microsoft).</summary>
    public const string DevelopmentAccountName = "devstoreaccount1";

    public const string DevelopmentAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={DevelopmentAccountName};" +
        $"AccountKey={DevelopmentAccountKey};TableEndpoint=http://127.0.0.1:{Port}/{DevelopmentAccountName};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/{DevelopmentAccountName};QueueEndpoint=http://127.0.0.1:{QueuePort}/{DevelopmentAccountName};";

    /// <summary>The app's connection string with its Table endpoint at another loopback port (a <see cref="TcpLink"/> to <see cref="Port"/>).</summary>
    public static string TableConnectionStringVia(int port) =>
        $"DefaultEndpointsProtocol=http;AccountName={DevelopmentAccountName};" +
        $"AccountKey={DevelopmentAccountKey};TableEndpoint=http://127.0.0.1:{port}/{DevelopmentAccountName};";

    public async Task StartAsync()
    {
        string executable = Path.Combine(RepositoryRoot.Path, "node_modules", ".bin", "azurite");
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException($"Azurite is not installed at {executable}: run 'npm ci' in the repository root (the test command in README.md does).");
        }
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--tableHost", "127.0.0.1", "--tablePort", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--blobHost", "127.0.0.1", "--blobPort", BlobPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--queueHost", "127.0.0.1", "--queuePort", QueuePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--skipApiVersionCheck", "--loose", "--disableTelemetry",
        })
        {
            start.ArgumentList.Add(argument);
        }
        if (_location is null)
        {
            start.ArgumentList.Add("--inMemoryPersistence");
        }
        else
        {
            start.ArgumentList.Add("--location");
            start.ArgumentList.Add(_location);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("Azurite did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (!await FreePort.WaitUntilListeningAsync(Port, TimeSpan.FromSeconds(30)) || !await FreePort.WaitUntilListeningAsync(QueuePort, TimeSpan.FromSeconds(30)))
        {
            Kill();
            throw new InvalidOperationException($"Azurite did not listen on port {Port} within 30 s.");
        }
    }

    /// <summary>
    /// Stops the server. A persistent one gets SIGINT first so that it flushes its store, as a real
    /// service keeps what it acknowledged; an in-memory one is simply killed.
    /// </summary>
    public async Task StopAsync()
    {
        var process = _process;
        if (process is null)
        {
            return;
        }
        if (_location is not null && !process.HasExited && SendInterrupt(process.Id) == 0)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                // Did not stop in time: fall through to kill.
            }
        }
        Kill();
        await process.WaitForExitAsync();
        process.Dispose();
        _process = null;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    private static int SendInterrupt(int pid) => SendSignal(pid, 2);

    /// <summary>
    /// Freezes the server (SIGSTOP): the kernel still accepts connections to its ports, but nothing answers, as with a
    /// storage service that hangs. <see cref="Resume"/> (SIGCONT) lets it go on where it stopped.
    /// </summary>
    public void Pause() => Signal(19);

    public void Resume() => Signal(18);

    private void Signal(int signal)
    {
        var process = _process ?? throw new InvalidOperationException("Azurite is not running.");
        if (SendSignal(process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"Could not send signal {signal} to Azurite (pid {process.Id}).");
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

    public async ValueTask DisposeAsync() => await StopAsync();
}
