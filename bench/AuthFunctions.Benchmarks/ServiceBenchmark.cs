using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace AuthFunctions.Benchmarks;

/// <summary>
/// The service through the real Functions host, each figure beside its floor or limit, in one run: the floor
/// (bench/BareFunction's GET) and <c>protected</c> decided from the revocation feed (the default mode), loaded
/// alike (<see cref="HostLoad"/>: req/s, CPU per request of host and worker, peak RSS of each); <c>login</c> against
/// cores ÷ one bcrypt hash; <c>protected</c> latency while logins saturate the CPU; and, in the full run,
/// <c>protected</c> with a storage read on every request (<c>Auth__RevocationMode=read</c>) beside the CPU of that read alone.
/// </summary>
internal static partial class ServiceBenchmark
{
    private const string Password = Stack.BenchmarkPassword;

    internal sealed record Figures(
        HostLoad.Figures Floor, HostLoad.Figures ProtectedFeed, HostLoad.Figures? ProtectedStorage, double? StorageReadCpuMs,
        WrkResult Login, double LoginLimitRps, WrkResult ProtectedDuringLogins, double HostPeakRssMb, double WorkerPeakRssMb,
        ColdStart.Sample FloorStart, ColdStart.Sample? ProductStart);

    public static async Task<Figures?> RunAsync(Stack stack, FunctionsApp bare, bool quick, int? rounds = null)
    {
        if (!File.Exists("/usr/bin/wrk"))
        {
            Console.WriteLine("bench=service skipped=wrk-not-installed hint=\"scripts/setup --bench\"");
            return null;
        }
        Console.WriteLine(Invariant($"bench=machine cores={Environment.ProcessorCount} load_average_1m={LoadAverage():0.0}"));
        int seconds = quick ? 4 : 10;

        // Each load instance's start is one cold-start sample too (the product's only when an earlier instance issued a
        // token); the floor, started first, idles while the product starts.
        HostLoad.Figures floor, feed;
        WrkResult login, underLoad;
        double loginLimit, hostPeak, workerPeak;
        ColdStart.Sample? productStart = null;
        string? earlier = stack.RecentAccessToken;
        string access, email;
        var floorInstance = stack.StartFloor(bare);
        var floorStart = await ColdStart.FirstAsync(floorInstance, BareFunctionApp.RequestPath, null);
        var started = earlier is null ? await stack.StartProductAsync() : stack.StartProduct();
        using (var app = started)
        {
            if (earlier is not null)
            {
                productStart = await ColdStart.FirstAsync(app, ProductUnderHost.ProtectedPath, earlier);
            }
            using var client = Stack.Client(app);
            (email, access) = await stack.RegisterBenchmarkUserAsync(client, "bench");
            using (floorInstance)
            {
                var floorTarget = new HostLoad.Target(floorInstance, bare.Name, BareFunctionApp.RequestPath, null);
                var productTarget = new HostLoad.Target(app, stack.Product.Name, ProductUnderHost.ProtectedPath, access);
                await HostLoad.InterleaveAsync(floorTarget, productTarget, seconds, rounds: rounds ?? (quick ? 1 : 3));
                floor = floorTarget.Figures();
                feed = productTarget.Figures();
            }
            Console.WriteLine($"bench=floor app={bare.Name} path={BareFunctionApp.RequestPath} {floor.Format()}");
            Console.WriteLine($"bench=protected_feed app={stack.Product.Name} path={ProductUnderHost.ProtectedPath} {feed.Format()}");

            var (hashMs, hashCpuMs) = MedianHashMilliseconds(12, quick ? 3 : 5);
            loginLimit = Environment.ProcessorCount / (hashMs / 1000.0);
            string loginScript = WriteLoginScript(email);
            try
            {
                // A warm-up of the same length, as for the floor and protected: the first few dozen logins also pay for the
                // JIT's tier-up of the whole login path (storage client, JSON, token signing), on a thread that preempts the
                // hashing ones; the limit beside it is a warmed-up hash too. Then a pause for the logins the warm-up left
                // in flight (their hashes still run) before the measured window.
                var warmUp = await RunWrkAsync(app, "/api/login", null, loginScript, seconds, connections: Environment.ProcessorCount * 2, threads: 1);
                Print("login_warm_up", warmUp);
                await Task.Delay(TimeSpan.FromSeconds(2));
                var (hostBefore, workerBefore, azuriteBefore) = (app.HostCpuTime(), app.WorkerCpuTime(), stack.Azurite.CpuTime());
                login = await RunWrkAsync(app, "/api/login", null, loginScript, seconds, connections: Environment.ProcessorCount * 2, threads: 1);
                Print("login", login);
                // Where a login's CPU goes beside its one hash: the host, the worker (the hash included), and Azurite's
                // storage work, which competes for the same cores as the hashing threads.
                double PerLogin(TimeSpan cpu) => login.Requests == 0 ? double.NaN : cpu.TotalMilliseconds / login.Requests;
                Console.WriteLine(Invariant($"bench=login_cpu host_cpu_ms={PerLogin(app.HostCpuTime() - hostBefore):0.0} worker_cpu_ms={PerLogin(app.WorkerCpuTime() - workerBefore):0.0} ") +
                    Invariant($"azurite_cpu_ms={PerLogin(stack.Azurite.CpuTime() - azuriteBefore):0.0} hash_cpu_ms_in_bench_process={hashCpuMs:0.0}"));
                Console.WriteLine(Invariant($"bench=login_limit bcrypt_cost=12 hash_ms={hashMs:0.0} cores={Environment.ProcessorCount} limit_rps={loginLimit:0.00} ratio_login_to_limit={login.RequestsPerSecond / loginLimit:0.00} target>=0.90"));

                // protected while logins saturate the CPU: hashing must not starve other requests.
                var background = RunWrkAsync(app, "/api/login", null, loginScript, seconds + 2, connections: Environment.ProcessorCount * 2, threads: 1);
                await Task.Delay(1000);
                underLoad = await RunWrkAsync(app, ProductUnderHost.ProtectedPath, access, null, seconds, connections: 2, threads: 1);
                await background;
                Print("protected_during_logins", underLoad);
                Console.WriteLine(Invariant($"bench=protected_during_logins_p99 p99_ms={underLoad.P99Ms:0.0} target_p99_ms<50"));
            }
            finally
            {
                File.Delete(loginScript);
            }
            // Login with an authenticator code beside password-only login (issue 22): CPU per login.
            await MfaLogin.RunAsync(app, quick ? 10 : 30);
            hostPeak = app.HostMegabytes("VmHWM");
            workerPeak = app.WorkerMegabytes("VmHWM");
            Console.WriteLine(Invariant($"bench=memory host_rss_mb={app.HostMegabytes():0.0} worker_rss_mb={app.WorkerMegabytes():0.0} host_peak_rss_mb={hostPeak:0.0} worker_peak_rss_mb={workerPeak:0.0} ") +
                Invariant($"worker_peak_rss_after_protected_mb={feed.WorkerPeakRssMb:0.0} floor_worker_peak_rss_mb={floor.WorkerPeakRssMb:0.0} floor_host_peak_rss_mb={floor.HostPeakRssMb:0.0}"));
        }

        HostLoad.Figures? storage = null;
        double? readFloor = null;
        if (!quick)
        {
            using var app = await stack.StartProductAsync(new Dictionary<string, string> { ["Auth__RevocationMode"] = "read" });
            var target = new HostLoad.Target(app, stack.Product.Name, ProductUnderHost.ProtectedPath, access);
            await target.WarmUpAsync(seconds);
            await target.RoundAsync(seconds);
            storage = target.Figures();
            Console.WriteLine($"bench=protected_storage app={stack.Product.Name} revocation_mode=read {storage.Format()}");
            readFloor = await StorageReadFloor.MeasureAsync(stack, access, TimeSpan.FromSeconds(seconds), concurrency: HostLoad.Connections);
            Console.WriteLine(Invariant($"bench=storage_read_alone cpu_ms={readFloor:0.000} protected_storage_worker_cpu_ms={storage.WorkerCpuMs:0.000} protected_feed_worker_cpu_ms={feed.WorkerCpuMs:0.000}"));
        }
        Console.WriteLine(Invariant($"ratio protected_feed_to_floor rps={feed.Load.RequestsPerSecond / floor.Load.RequestsPerSecond:0.00} cpu_per_request={feed.Load.CpuMsPerRequest / floor.Load.CpuMsPerRequest:0.00} ") +
            Invariant($"host_cpu_per_request={feed.HostCpuMs / floor.HostCpuMs:0.00} worker_cpu_per_request={feed.WorkerCpuMs / floor.WorkerCpuMs:0.00} worker_peak_rss_mb_over_floor={feed.WorkerPeakRssMb - floor.WorkerPeakRssMb:0.0}"));
        return new Figures(floor, feed, storage, readFloor, login, loginLimit, underLoad, hostPeak, workerPeak, floorStart, productStart);
    }

    /// <summary>Figures taken on a shared machine are labelled with its load.</summary>
    internal static double LoadAverage() =>
        double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);

    /// <summary>One bcrypt hash in this process: the median wall time (the limit's basis) and the median CPU time of the thread.</summary>
    private static (double WallMs, double CpuMs) MedianHashMilliseconds(int cost, int runs)
    {
        BCrypt.Net.BCrypt.HashPassword("warm-up", BCrypt.Net.BCrypt.GenerateSalt(cost, 'b'));
        var samples = new List<double>();
        var cpuSamples = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            var cpu = ThreadCpuTime();
            BCrypt.Net.BCrypt.HashPassword(Password, BCrypt.Net.BCrypt.GenerateSalt(cost, 'b'));
            cpuSamples.Add((ThreadCpuTime() - cpu).TotalMilliseconds);
            samples.Add(watch.Elapsed.TotalMilliseconds);
        }
        samples.Sort();
        cpuSamples.Sort();
        return (samples[samples.Count / 2], cpuSamples[cpuSamples.Count / 2]);
    }

    /// <summary>This thread's CPU time (user and system), to the nanosecond: clock_gettime(CLOCK_THREAD_CPUTIME_ID).</summary>
    private static TimeSpan ThreadCpuTime() =>
        ClockGetTime(3, out var now) == 0 ? TimeSpan.FromTicks(now.Seconds * TimeSpan.TicksPerSecond + now.Nanoseconds / 100) : TimeSpan.Zero;

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    private static string WriteLoginScript(string email)
    {
        string path = Path.Combine(Path.GetTempPath(), $"authfunctions-login-{Guid.NewGuid():N}.lua");
        File.WriteAllText(path,
            "wrk.method = \"POST\"\n" +
            $"wrk.body = '{{\"email\":\"{email}\",\"password\":\"{Password}\"}}'\n" +
            "wrk.headers[\"Content-Type\"] = \"application/json\"\n");
        return path;
    }

    internal sealed record WrkResult(double RequestsPerSecond, long Requests, long Non2xx, double P50Ms, double P99Ms, double CpuMsPerRequest);

    internal static async Task<WrkResult> RunWrkAsync(IServedApp app, string path, string? bearer, string? script, int seconds, int connections, int threads = 2)
    {
        var start = new ProcessStartInfo("/usr/bin/wrk") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-t", threads.ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture), "-d", $"{seconds}s", "--latency", "--timeout", "10s" })
        {
            start.ArgumentList.Add(argument);
        }
        if (bearer is not null)
        {
            start.ArgumentList.Add("-H");
            start.ArgumentList.Add("Authorization: Bearer " + bearer);
        }
        if (script is not null)
        {
            start.ArgumentList.Add("-s");
            start.ArgumentList.Add(script);
        }
        start.ArgumentList.Add($"http://127.0.0.1:{app.Port}{path}");
        var cpuBefore = app.CpuTime();
        using var wrk = Process.Start(start)!;
        string output = await wrk.StandardOutput.ReadToEndAsync();
        await wrk.WaitForExitAsync();
        var cpu = app.CpuTime() - cpuBefore;

        long requests = long.Parse(RequestsLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        var non2xx = Non2xxLine().Match(output);
        return new WrkResult(
            double.Parse(RateLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture),
            requests,
            non2xx.Success ? long.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            Percentile(output, "50"),
            Percentile(output, "99"),
            requests == 0 ? double.NaN : cpu.TotalMilliseconds / requests);
    }

    private static double Percentile(string output, string percent)
    {
        var match = Regex.Match(output, $@"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        double value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
    }

    internal static void Print(string name, WrkResult result) =>
        Console.WriteLine(Invariant($"bench={name} rps={result.RequestsPerSecond:0} requests={result.Requests} non_2xx={result.Non2xx} p50_ms={result.P50Ms:0.00} p99_ms={result.P99Ms:0.00} server_cpu_ms_per_request={result.CpuMsPerRequest:0.000}"));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex RequestsLine();

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RateLine();

    [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")]
    private static partial Regex Non2xxLine();
}
