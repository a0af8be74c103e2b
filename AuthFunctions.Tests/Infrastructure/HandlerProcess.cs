using System.Diagnostics;
using System.Globalization;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// The app started as its own process the way the Functions host starts a custom handler:
/// FUNCTIONS_CUSTOMHANDLER_PORT set, production settings against the shared Azurite, then GET /
/// polled until it answers. Ended (by PID) on dispose.
/// </summary>
public sealed class HandlerProcess : IAsyncDisposable
{
    private readonly Process _process;

    private HandlerProcess(Process process, int port)
    {
        _process = process;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    }

    public HttpClient Client { get; }

    /// <summary>The first answer to GET /, as the host's readiness probe saw it.</summary>
    public HttpResponseMessage Readiness { get; private set; } = null!;

    /// <summary>How the Functions host would start the handler: port in FUNCTIONS_CUSTOMHANDLER_PORT, Production, valid settings, output redirected.</summary>
    public static ProcessStartInfo HostLikeStartInfo(string file, string[] arguments, string workingDirectory, int port, string storageConnectionString, IDictionary<string, string>? extraEnvironment = null)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["FUNCTIONS_CUSTOMHANDLER_PORT"] = port.ToString(CultureInfo.InvariantCulture);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Storage__ConnectionString"] = storageConnectionString;
        start.Environment["Storage__TablePrefix"] = "p" + Guid.NewGuid().ToString("N")[..12];
        start.Environment["Auth__SigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        start.Environment["Auth__BcryptCost"] = "10";
        foreach (var (name, value) in extraEnvironment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        return start;
    }

    public static async Task<HandlerProcess> StartAsync(string file, string[] arguments, string workingDirectory, IDictionary<string, string>? extraEnvironment = null)
    {
        var azurite = await AzuriteServer.Shared;
        int port = FreePort.Next();
        var process = Process.Start(HostLikeStartInfo(file, arguments, workingDirectory, port, azurite.ConnectionString, extraEnvironment))!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var handler = new HandlerProcess(process, port);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            try
            {
                handler.Readiness = await handler.Client.GetAsync("/");
                return handler;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(20);
            }
        }
        await handler.DisposeAsync();
        throw new TimeoutException($"{file} did not answer GET / within 30 s (the host's budget)");
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
