using System.Globalization;

namespace AuthFunctions.Benchmarks;

/// <summary>
/// Through the real Functions host (<see cref="FunctionsHost"/>), as Azure serves the app: the floor — a bare
/// isolated-worker GET function (bench/BareFunction) — and the product as <see cref="ProductUnderHost"/> lays it
/// out, measured alike: <c>wrk -t1 -c8</c> after a warm-up of the same length (req/s, p99, CPU per request of host
/// plus worker), peak RSS of each process under that load, and cold start from the host process's start to the
/// first 200 (authenticated for the product, with a token an earlier instance issued). Each instance is ended
/// (SIGTERM, then kill, by PID) before the next starts.
/// </summary>
internal static class HostBenchmark
{
    private const int Connections = 8;

    internal sealed record Figures(ServiceBenchmark.WrkResult Load, double HostCpuMs, double WorkerCpuMs, double HostPeakRssMb, double WorkerPeakRssMb, ColdStart.Samples ColdStart);

    public static async Task RunAsync(Stack stack, bool quick)
    {
        if (!File.Exists("/usr/bin/wrk"))
        {
            Console.WriteLine("bench=host skipped=wrk-not-installed hint=\"scripts/setup --bench\"");
            return;
        }
        var (host, reason) = await FunctionsHost.LocateAsync(stack.Root);
        if (host is null)
        {
            Console.WriteLine($"bench=host skipped=no-functions-host detail=\"{reason}\"");
            return;
        }
        Console.WriteLine(Invariant($"bench=host host={host.Label} executable={host.Executable} cores={Environment.ProcessorCount} load_average_1m={ServiceBenchmark.LoadAverage():0.0}"));
        int seconds = quick ? 4 : 10;
        int coldRuns = quick ? 3 : 5;

        var bare = await BareFunctionApp.BuildAsync(stack.Root);
        var floorSettings = new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Production", ["Logging__LogLevel__Default"] = "Warning" };
        var floor = await MeasureAsync(host, bare, floorSettings, stack.HostStorageConnectionString, BareFunctionApp.RequestPath, BareFunctionApp.RequestPath, authenticate: null, seconds, coldRuns);
        Print("host_floor", bare, floor);

        var product = await ProductUnderHost.PrepareAsync(stack, host);
        var measured = await MeasureAsync(host, product, ProductUnderHost.Settings(stack), stack.HostStorageConnectionString, ProductUnderHost.ReadyPath, ProductUnderHost.ProtectedPath,
            async client => (await Stack.RegisterAndLoginAsync(client, $"host-{Guid.NewGuid():N}@example.com", "benchmark password")).Access, seconds, coldRuns);
        Print("host_product_protected", product, measured);
        Console.WriteLine(
            Invariant($"ratio host_product_to_floor rps={measured.Load.RequestsPerSecond / floor.Load.RequestsPerSecond:0.00} cpu_per_request={measured.Load.CpuMsPerRequest / floor.Load.CpuMsPerRequest:0.00} ") +
            Invariant($"cold_start={measured.ColdStart.Median / floor.ColdStart.Median:0.00} worker_peak_rss={measured.WorkerPeakRssMb / floor.WorkerPeakRssMb:0.00}"));
        Console.WriteLine(Invariant($"bench=host_machine_after load_average_1m={ServiceBenchmark.LoadAverage():0.0}"));
    }

    /// <summary>
    /// One app under the host: load on <paramref name="path"/> (after <paramref name="readyPath"/> answers 200 and
    /// <paramref name="authenticate"/>, when given, has produced a bearer token), memory, then cold starts.
    /// </summary>
    public static async Task<Figures> MeasureAsync(FunctionsHost host, FunctionsApp app, IDictionary<string, string> settings, string azureWebJobsStorage,
        string readyPath, string path, Func<HttpClient, Task<string>>? authenticate, int seconds, int coldRuns)
    {
        string? bearer = null;
        ServiceBenchmark.WrkResult load;
        double hostCpuMs, workerCpuMs, hostPeak, workerPeak;
        using (var instance = host.Start(app, settings, azureWebJobsStorage))
        {
            await instance.WaitForFirst200Async(readyPath);
            if (authenticate is not null)
            {
                using var client = Stack.Client(instance);
                try
                {
                    bearer = await authenticate(client);
                }
                catch (InvalidOperationException e)
                {
                    throw new InvalidOperationException($"{app.Name} under the host: {e.Message}. The host's last output:\n{instance.RecentOutput()}", e);
                }
            }
            await instance.WaitForFirst200Async(path, bearer);
            // Warm-up of the same length: host and worker both compile their hot paths (tiered JIT) under load.
            await ServiceBenchmark.RunWrkAsync(instance, path, bearer, null, seconds, Connections, threads: 1);
            var hostBefore = instance.HostCpuTime();
            var workerBefore = instance.WorkerCpuTime();
            load = await ServiceBenchmark.RunWrkAsync(instance, path, bearer, null, seconds, Connections, threads: 1);
            hostCpuMs = (instance.HostCpuTime() - hostBefore).TotalMilliseconds / load.Requests;
            workerCpuMs = (instance.WorkerCpuTime() - workerBefore).TotalMilliseconds / load.Requests;
            hostPeak = instance.HostMegabytes("VmHWM");
            workerPeak = instance.WorkerMegabytes("VmHWM");
        }
        if (load.Non2xx > 0)
        {
            throw new InvalidOperationException($"{app.Name} under the host answered {load.Non2xx} non-2xx responses to {path}");
        }
        var cold = await ColdStart.MeasureAsync(() => host.Start(app, settings, azureWebJobsStorage), path, bearer, coldRuns);
        return new Figures(load, hostCpuMs, workerCpuMs, hostPeak, workerPeak, cold);
    }

    private static void Print(string name, FunctionsApp app, Figures figures)
    {
        var load = figures.Load;
        Console.WriteLine(
            Invariant($"bench={name} app={app.Name} worker_runtime={app.WorkerRuntime} rps={load.RequestsPerSecond:0} requests={load.Requests} non_2xx={load.Non2xx} p50_ms={load.P50Ms:0.00} p99_ms={load.P99Ms:0.00} ") +
            Invariant($"cpu_ms_per_request={load.CpuMsPerRequest:0.000} host_cpu_ms={figures.HostCpuMs:0.000} worker_cpu_ms={figures.WorkerCpuMs:0.000} ") +
            Invariant($"host_peak_rss_mb={figures.HostPeakRssMb:0.0} worker_peak_rss_mb={figures.WorkerPeakRssMb:0.0}"));
        Console.WriteLine($"bench={name}_cold_start {figures.ColdStart.Format()}");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
