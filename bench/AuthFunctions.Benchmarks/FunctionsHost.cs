using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using AuthFunctions.HostLaunch;

namespace AuthFunctions.Benchmarks;

/// <summary>An isolated-worker app as the Functions host loads it: the folder the host reads and its worker runtime.</summary>
/// <param name="Name">A label for the output lines.</param>
/// <param name="OutputDirectory">The worker's build or publish output (functions.metadata, worker.config.json,
/// extensions.json, .azurefunctions/, host.json).</param>
/// <param name="WorkerRuntime"><c>FUNCTIONS_WORKER_RUNTIME</c>.</param>
internal sealed record FunctionsApp(string Name, string OutputDirectory, string WorkerRuntime = FunctionsApp.DotnetIsolated)
{
    public const string DotnetIsolated = "dotnet-isolated";
}

/// <summary>
/// The real Azure Functions host, found on this machine (<see cref="FunctionsHostCommand"/>, shared with the tests), that
/// starts over an app's output folder. Each <see cref="Start"/> is one instance: its own port and state folder, ended by
/// PID (SIGTERM, then kill).
/// </summary>
internal sealed class FunctionsHost(FunctionsHostCommand command)
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    public FunctionsHostKind Kind => command.Kind;

    public string Executable => command.Executable;

    public string Label => command.Label;

    public static async Task<FunctionsHost> LocateAsync(string repositoryRoot) => new(await FunctionsHostCommand.LocateAsync(repositoryRoot));

    /// <summary>
    /// Starts one host instance over <paramref name="app"/> on a free loopback port. <paramref name="appSettings"/>
    /// reach the worker as environment variables, as app settings do in Azure; <paramref name="azureWebJobsStorage"/>
    /// needs blob, queue and table endpoints (<see cref="Stack.HostStorageConnectionString"/>). Host logs at
    /// Warning unless the settings say otherwise; the host's environment follows the app's <c>ASPNETCORE_ENVIRONMENT</c>
    /// (Production when unset), as fh-start.sh sets the worker's from <c>AZURE_FUNCTIONS_ENVIRONMENT</c>.
    /// </summary>
    public FunctionsHostInstance Start(FunctionsApp app, IDictionary<string, string> appSettings, string azureWebJobsStorage)
    {
        int port = ChildProcess.FreePort();
        string state = Directory.CreateTempSubdirectory("authfunctions-fh-state-").FullName;
        var start = command.StartInfo(app.OutputDirectory, port, state);
        var environment = new Dictionary<string, string>(appSettings)
        {
            ["AzureWebJobsStorage"] = azureWebJobsStorage,
            ["FUNCTIONS_WORKER_RUNTIME"] = app.WorkerRuntime,
        };
        string environmentName = appSettings.TryGetValue("ASPNETCORE_ENVIRONMENT", out var named) ? named : "Production";
        environment.TryAdd("AZURE_FUNCTIONS_ENVIRONMENT", environmentName);
        environment.TryAdd("ASPNETCORE_ENVIRONMENT", environmentName);
        if (Environment.GetEnvironmentVariable("AzureFunctionsJobHost__logging__logLevel__default") is null)
        {
            // As the measurements in PLATFORM.md were taken; set the variable to see more (Information) when a start fails.
            environment.TryAdd("AzureFunctionsJobHost__logging__logLevel__default", "Warning");
        }
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        var clock = Stopwatch.StartNew();
        return new FunctionsHostInstance(ChildProcess.Start(start, port), clock, state, StopGrace);
    }
}

/// <summary>
/// One running Functions host and its worker (the host's child process, the isolated worker). CPU time is the
/// host's plus the worker's; memory is read for each.
/// </summary>
internal sealed class FunctionsHostInstance : IServedApp
{
    private readonly ChildProcess _host;
    private readonly Stopwatch _sinceStart;
    private readonly string _state;
    private readonly TimeSpan _stopGrace;
    private readonly HashSet<(int Pid, long StartTicks)> _workersSeen = [];
    private bool _disposed;

    internal FunctionsHostInstance(ChildProcess host, Stopwatch sinceStart, string state, TimeSpan stopGrace)
    {
        _host = host;
        _sinceStart = sinceStart;
        _state = state;
        _stopGrace = stopGrace;
    }

    public int Port => _host.Port;

    public int HostPid => _host.Pid;

    /// <summary>The host's last console lines (its logs and, prefixed by the host, the worker's).</summary>
    public string RecentOutput() => _host.RecentOutput();

    /// <summary>Lines the host has written to its console so far: its logs and, forwarded by it, the worker's.</summary>
    public long ConsoleLines => _host.LinesWritten;

    /// <summary>Time since the host process was started.</summary>
    public TimeSpan SinceStart => _sinceStart.Elapsed;

    /// <summary>The worker processes now (the host's children; one in practice).</summary>
    public IReadOnlyList<int> WorkerPids()
    {
        var pids = ProcessInfo.Children(HostPid);
        lock (_workersSeen)
        {
            foreach (int pid in pids)
            {
                if (ProcessInfo.StartTicks(pid) is { } ticks)
                {
                    _workersSeen.Add((pid, ticks));
                }
            }
        }
        return pids;
    }

    public TimeSpan CpuTime() => HostCpuTime() + WorkerCpuTime();

    public TimeSpan HostCpuTime() => _host.CpuTime();

    public TimeSpan WorkerCpuTime() => WorkerPids().Aggregate(TimeSpan.Zero, (sum, pid) => sum + ProcessInfo.CpuTime(pid));

    /// <summary>The host's memory in MiB: <c>VmRSS</c> now, <c>VmHWM</c> its peak.</summary>
    public double HostMegabytes(string field = "VmRSS") => _host.RssMegabytes(field);

    /// <summary>The worker's memory in MiB (summed if the host runs more than one).</summary>
    public double WorkerMegabytes(string field = "VmRSS") => WorkerPids().Sum(pid => ProcessInfo.Megabytes(pid, field));

    /// <summary>
    /// Polls <paramref name="path"/> until it answers 200 and returns the time since the host process started.
    /// Fails at once, with the host's last output, if the host exits, and after <paramref name="timeout"/> (60 s by default).
    /// </summary>
    public async Task<TimeSpan> WaitForFirst200Async(string path, string? bearer = null, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}"), Timeout = TimeSpan.FromSeconds(10) };
        string last = "no answer";
        while (SinceStart < limit)
        {
            if (_host.Process.HasExited)
            {
                throw new InvalidOperationException($"the Functions host exited ({_host.Process.ExitCode}) before {path} answered 200. Its last output:\n{_host.RecentOutput()}\n" +
                    "(KUBERNETES_SERVICE_HOST=diag POD_NAMESPACE=diag in the app settings makes the shared host print its system logs.)");
            }
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, path);
                if (bearer is not null)
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
                }
                using var response = await client.SendAsync(request);
                if (response.StatusCode == System.Net.HttpStatusCode.OK)
                {
                    WorkerPids();
                    return SinceStart;
                }
                last = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            catch (TaskCanceledException)
            {
                last = "timeout";
            }
            await Task.Delay(5);
        }
        throw new TimeoutException($"{path} did not answer 200 within {limit.TotalSeconds:0} s of the host start (last: {last}). The host's last output:\n{_host.RecentOutput()}");
    }

    /// <summary>SIGTERM to the host (it stops its worker), a kill of what is left after the grace period, then the state folder goes.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        WorkerPids();
        _host.Stop(_stopGrace);
        _host.Dispose();
        lock (_workersSeen)
        {
            // A worker the host left behind (reparented once the host exited): the same process, by PID and start time.
            foreach (var (pid, ticks) in _workersSeen)
            {
                if (ProcessInfo.StartTicks(pid) == ticks)
                {
                    try
                    {
                        using var orphan = Process.GetProcessById(pid);
                        orphan.Kill();
                        orphan.WaitForExit(5000);
                    }
                    catch (Exception e) when (e is ArgumentException or InvalidOperationException)
                    {
                    }
                }
            }
        }
        try
        {
            Directory.Delete(_state, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
