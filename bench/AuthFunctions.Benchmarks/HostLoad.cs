using System.Globalization;

namespace AuthFunctions.Benchmarks;

/// <summary>
/// Load through the real Functions host, measured alike for the floor (bench/BareFunction) and the product:
/// <c>wrk -t1 -c8</c> after a warm-up of the same length (host and worker both compile their hot paths under load),
/// then rounds of the same length, the two apps' rounds interleaved so that a shared machine's noise falls on both
/// alike; CPU per request of the host and of the worker from /proc, and each process's peak RSS (VmHWM) after that load.
/// </summary>
internal static class HostLoad
{
    public const int Connections = 8;

    /// <summary>
    /// One app's figures over its rounds: req/s, p50 and p99 the medians of the rounds'; requests, non-2xx and CPU per
    /// request over all of them (host and worker separately, and together); peak RSS of each process so far.
    /// </summary>
    internal sealed record Figures(ServiceBenchmark.WrkResult Load, double HostCpuMs, double WorkerCpuMs, double HostPeakRssMb, double WorkerPeakRssMb, int Rounds, double MinRps, double MaxRps, double ConsoleLinesPerRequest)
    {
        public string Format() =>
            Invariant($"rounds={Rounds} rps={Load.RequestsPerSecond:0} rps_min={MinRps:0} rps_max={MaxRps:0} requests={Load.Requests} non_2xx={Load.Non2xx} p50_ms={Load.P50Ms:0.00} p99_ms={Load.P99Ms:0.00} ") +
            Invariant($"cpu_ms_per_request={Load.CpuMsPerRequest:0.000} host_cpu_ms={HostCpuMs:0.000} worker_cpu_ms={WorkerCpuMs:0.000} ") +
            Invariant($"host_peak_rss_mb={HostPeakRssMb:0.0} worker_peak_rss_mb={WorkerPeakRssMb:0.0} host_console_lines_per_request={ConsoleLinesPerRequest:0.00}");
    }

    /// <summary>One app under load: the instance, what it is asked, and its rounds so far.</summary>
    internal sealed class Target(FunctionsHostInstance instance, string label, string path, string? bearer)
    {
        private readonly List<(ServiceBenchmark.WrkResult Load, TimeSpan HostCpu, TimeSpan WorkerCpu, long ConsoleLines)> _rounds = [];

        public FunctionsHostInstance Instance { get; } = instance;

        public async Task WarmUpAsync(int seconds)
        {
            await Instance.WaitForFirst200Async(path, bearer, TimeSpan.FromSeconds(120));
            await ServiceBenchmark.RunWrkAsync(Instance, path, bearer, null, seconds, Connections, threads: 1);
        }

        public async Task RoundAsync(int seconds)
        {
            var hostBefore = Instance.HostCpuTime();
            var workerBefore = Instance.WorkerCpuTime();
            long linesBefore = Instance.ConsoleLines;
            var load = await ServiceBenchmark.RunWrkAsync(Instance, path, bearer, null, seconds, Connections, threads: 1);
            _rounds.Add((load, Instance.HostCpuTime() - hostBefore, Instance.WorkerCpuTime() - workerBefore, Instance.ConsoleLines - linesBefore));
            if (load.Non2xx > 0)
            {
                throw new InvalidOperationException($"{label} under the host answered {load.Non2xx} non-2xx responses to {path}. The host's last output:\n{Instance.RecentOutput()}");
            }
        }

        public Figures Figures()
        {
            long requests = _rounds.Sum(r => r.Load.Requests);
            double host = _rounds.Sum(r => r.HostCpu.TotalMilliseconds) / requests;
            double worker = _rounds.Sum(r => r.WorkerCpu.TotalMilliseconds) / requests;
            var load = new ServiceBenchmark.WrkResult(
                Median(_rounds.Select(r => r.Load.RequestsPerSecond)), requests, _rounds.Sum(r => r.Load.Non2xx),
                Median(_rounds.Select(r => r.Load.P50Ms)), Median(_rounds.Select(r => r.Load.P99Ms)), host + worker);
            return new Figures(load, host, worker, Instance.HostMegabytes("VmHWM"), Instance.WorkerMegabytes("VmHWM"),
                _rounds.Count, _rounds.Min(r => r.Load.RequestsPerSecond), _rounds.Max(r => r.Load.RequestsPerSecond), (double)_rounds.Sum(r => r.ConsoleLines) / requests);
        }
    }

    /// <summary>Warms both up, then <paramref name="rounds"/> rounds of each, alternating (which goes first alternates too).</summary>
    public static async Task InterleaveAsync(Target first, Target second, int seconds, int rounds)
    {
        await first.WarmUpAsync(seconds);
        await second.WarmUpAsync(seconds);
        for (int round = 0; round < rounds; round++)
        {
            var (a, b) = round % 2 == 0 ? (first, second) : (second, first);
            await a.RoundAsync(seconds);
            await b.RoundAsync(seconds);
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
