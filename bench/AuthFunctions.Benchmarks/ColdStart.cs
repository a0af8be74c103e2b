using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;

namespace AuthFunctions.Benchmarks;

/// <summary>
/// Cold start as a user meets it: from starting the process (for the app, the Functions host's) to the first
/// 200 — authenticated for the product, with a token an earlier instance issued. Each run's processes are ended
/// (by PID) before the next starts.
/// </summary>
internal static class ColdStart
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Wall time and CPU time of every serving process at the first 200 (the CPU figure moves less on a shared machine);
    /// under the host, the host's and the worker's CPU separately too.
    /// </summary>
    internal sealed record Samples(double Median, double Min, double Max, double CpuMedian, double HostCpuMedian, double WorkerCpuMedian, int Runs)
    {
        public string Format() => string.Create(CultureInfo.InvariantCulture,
            $"runs={Runs} median_ms={Median:0} min_ms={Min:0} max_ms={Max:0} cpu_median_ms={CpuMedian:0}") +
            (double.IsNaN(HostCpuMedian) ? "" : string.Create(CultureInfo.InvariantCulture, $" host_cpu_median_ms={HostCpuMedian:0} worker_cpu_median_ms={WorkerCpuMedian:0}"));

        public static Samples Of(List<Sample> samples)
        {
            var wall = samples.Select(s => s.Wall).Order().ToList();
            return new Samples(wall[wall.Count / 2], wall[0], wall[^1], MedianOf(samples.Select(s => s.Cpu)), MedianOf(samples.Select(s => s.HostCpu)), MedianOf(samples.Select(s => s.WorkerCpu)), wall.Count);
        }

        private static double MedianOf(IEnumerable<double> values)
        {
            var sorted = values.Order().ToList();
            return sorted[sorted.Count / 2];
        }
    }

    /// <summary>One cold start: wall milliseconds and CPU milliseconds (all, host, worker; NaN where not under the host) at the first 200.</summary>
    internal readonly record struct Sample(double Wall, double Cpu, double HostCpu, double WorkerCpu);

    public static async Task<Samples> MeasureAsync(Func<IServedApp> start, string path, string? bearer, int runs)
    {
        var samples = new List<Sample>();
        for (int i = 0; i < runs; i++)
        {
            samples.Add(await OnceAsync(start, path, bearer));
        }
        return Samples.Of(samples);
    }

    /// <summary>
    /// The suite: the product's cold start (host start → first authenticated 200 on <see cref="ProductUnderHost.ProtectedPath"/>)
    /// and the floor's (host start → first 200 of bench/BareFunction), interleaved — one of each per round — so that the
    /// machine's noise falls on both alike.
    /// </summary>
    public static async Task<(Samples Product, Samples Floor)> RunAsync(Stack stack, FunctionsApp bare, int runs)
    {
        string access = await stack.IssuedAccessTokenAsync();
        var product = new List<Sample>();
        var floor = new List<Sample>();
        for (int i = 0; i < runs; i++)
        {
            floor.Add(await OnceAsync(() => stack.StartFloor(bare), BareFunctionApp.RequestPath, null));
            product.Add(await OnceAsync(() => stack.StartProduct(), ProductUnderHost.ProtectedPath, access));
        }
        var (productSamples, floorSamples) = (Samples.Of(product), Samples.Of(floor));
        Console.WriteLine($"bench=cold_start_floor app={bare.Name} {floorSamples.Format()}");
        Console.WriteLine($"bench=cold_start app={stack.Product.Name} authenticated=true {productSamples.Format()}");
        return (productSamples, floorSamples);
    }

    /// <summary>
    /// The suite's figures from samples taken already: in <c>--quick</c>, the starts of the service suite's load instances
    /// (one each) stand for the suite's runs.
    /// </summary>
    public static (Samples Product, Samples Floor) FromSamples(string productName, Sample product, string floorName, Sample floor)
    {
        var (productSamples, floorSamples) = (Samples.Of([product]), Samples.Of([floor]));
        Console.WriteLine($"bench=cold_start_floor app={floorName} from=service_load_instance {floorSamples.Format()}");
        Console.WriteLine($"bench=cold_start app={productName} authenticated=true from=service_load_instance {productSamples.Format()}");
        return (productSamples, floorSamples);
    }

    /// <summary>One cold start of the app <paramref name="start"/> starts, to its first 200 on <paramref name="path"/>; the app is ended after.</summary>
    public static async Task<Sample> OnceAsync(Func<IServedApp> start, string path, string? bearer)
    {
        var watch = Stopwatch.StartNew();
        using var process = start();
        return await FirstAsync(process, path, bearer, watch);
    }

    /// <summary>
    /// The cold start of an app just started (by the host's clock: <see cref="FunctionsHostInstance.SinceStart"/>), to its
    /// first 200 on <paramref name="path"/>; the app keeps running.
    /// </summary>
    public static Task<Sample> FirstAsync(FunctionsHostInstance instance, string path, string? bearer) => FirstAsync(instance, path, bearer, null);

    private static async Task<Sample> FirstAsync(IServedApp process, string path, string? bearer, Stopwatch? watch)
    {
        Func<TimeSpan> elapsed = watch is not null ? () => watch.Elapsed : () => ((FunctionsHostInstance)process).SinceStart;
        using var client = Stack.Client(process);
        client.Timeout = TimeSpan.FromSeconds(10);
        bool answered = false;
        while (!answered && elapsed() < Limit)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, path);
                if (bearer is not null)
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
                }
                using var response = await client.SendAsync(request);
                answered = response.IsSuccessStatusCode;
                if (!answered)
                {
                    // A Functions host answers before its worker is ready: no busy loop against it.
                    await Task.Delay(2);
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                await Task.Delay(2);
            }
        }
        double wall = elapsed().TotalMilliseconds;
        if (!answered)
        {
            string output = process is FunctionsHostInstance host ? "\nThe host's last output:\n" + host.RecentOutput() : "";
            throw new TimeoutException($"no 200 from {path} within {Limit.TotalSeconds:0} s of the process start{output}");
        }
        return process is FunctionsHostInstance instance
            ? new Sample(wall, instance.CpuTime().TotalMilliseconds, instance.HostCpuTime().TotalMilliseconds, instance.WorkerCpuTime().TotalMilliseconds)
            : new Sample(wall, process.CpuTime().TotalMilliseconds, double.NaN, double.NaN);
    }
}
