using System.Globalization;

namespace AuthFunctions.Benchmarks;

/// <summary>
/// The issue's figures, all through the Functions host, each beside its target on one <c>target=</c> line. Printed,
/// never judged: <c>met=</c> says where the figure stands in this run, and no line changes the exit code.
/// </summary>
internal static class Targets
{
    internal sealed class Results
    {
        public double LoadAverageBefore { get; set; }

        public double LoadAverageAfter { get; set; }

        public ServiceBenchmark.Figures? Service { get; set; }

        public (ColdStart.Samples Product, ColdStart.Samples Floor)? ColdStart { get; set; }

        public (double MedianMs, double MaxMs)? Revocation { get; set; }

        public PeerBenchmark.Figures? Peer { get; set; }
    }

    public static void Print(Results results)
    {
        Console.WriteLine(Invariant($"bench=targets load_average_1m_before={results.LoadAverageBefore:0.0} load_average_1m_after={results.LoadAverageAfter:0.0} cores={Environment.ProcessorCount}"));
        if (results.Service is { } service)
        {
            var (feed, floor) = (service.ProtectedFeed, service.Floor);
            double ratio = feed.Load.RequestsPerSecond / floor.Load.RequestsPerSecond;
            Line("protected_feed_rps_to_floor", ratio, "0.00", ">=0.80", ratio >= 0.80,
                Invariant($"protected_rps={feed.Load.RequestsPerSecond:0} floor_rps={floor.Load.RequestsPerSecond:0}"));
            double limit = floor.WorkerPeakRssMb + 40;
            Line("worker_peak_rss_mb", feed.WorkerPeakRssMb, "0.0", Invariant($"<={limit:0.0}"), feed.WorkerPeakRssMb <= limit,
                Invariant($"floor_worker_peak_rss_mb={floor.WorkerPeakRssMb:0.0} rule=floor+40 host_peak_rss_mb={feed.HostPeakRssMb:0.0} floor_host_peak_rss_mb={floor.HostPeakRssMb:0.0} worker_peak_after_logins_mb={service.WorkerPeakRssMb:0.0} host_peak_after_logins_mb={service.HostPeakRssMb:0.0}"));
            Console.WriteLine(Invariant($"target=cpu_ms_per_request host={feed.HostCpuMs:0.000} worker={feed.WorkerCpuMs:0.000} total={feed.Load.CpuMsPerRequest:0.000} ") +
                Invariant($"floor_host={floor.HostCpuMs:0.000} floor_worker={floor.WorkerCpuMs:0.000} floor_total={floor.Load.CpuMsPerRequest:0.000} ratio_to_floor={feed.Load.CpuMsPerRequest / floor.Load.CpuMsPerRequest:0.00} limit=none"));
            double login = service.Login.RequestsPerSecond / service.LoginLimitRps;
            Line("login_to_bcrypt_limit", login, "0.00", ">=0.90", login >= 0.90,
                Invariant($"login_rps={service.Login.RequestsPerSecond:0.00} limit_rps={service.LoginLimitRps:0.00}"));
            Line("protected_p99_during_logins_ms", service.ProtectedDuringLogins.P99Ms, "0.0", "<50", service.ProtectedDuringLogins.P99Ms < 50, "");
        }
        if (results.ColdStart is { } cold)
        {
            double ratio = cold.Product.Median / cold.Floor.Median;
            Line("cold_start_to_floor", ratio, "0.00", "<=1.20", ratio <= 1.20,
                Invariant($"product_median_ms={cold.Product.Median:0} floor_median_ms={cold.Floor.Median:0} runs={cold.Product.Runs} product_cpu_median_ms={cold.Product.CpuMedian:0} floor_cpu_median_ms={cold.Floor.CpuMedian:0}"));
        }
        if (results.Revocation is { } revocation)
        {
            Line("revocation_visibility_max_ms", revocation.MaxMs, "0", "<=2000", revocation.MaxMs <= 2000, Invariant($"median_ms={revocation.MedianMs:0} poll_ms=1000"));
        }
        if (results.Peer is { } peer)
        {
            // Ours is the storage-checked call when the run measured it (token check plus one storage read, as the peer's
            // /manage/info is a token check plus one database read), else the feed-decided one; ours includes the host's CPU.
            if (results.Service is { } ours)
            {
                var (mode, figures) = ours.ProtectedStorage is { } storage ? ("read", storage) : ("feed", ours.ProtectedFeed);
                double ratio = figures.Load.CpuMsPerRequest / peer.ProtectedCpuMs;
                Line("protected_cpu_to_peer", ratio, "0.00", "<=0.80", ratio <= 0.80,
                    Invariant($"ours_revocation_mode={mode} ours_cpu_ms={figures.Load.CpuMsPerRequest:0.000} ours_worker_cpu_ms={figures.WorkerCpuMs:0.000} peer_cpu_ms={peer.ProtectedCpuMs:0.000} ours_worker_peak_rss_mb={ours.ProtectedFeed.WorkerPeakRssMb:0.0} peer_peak_rss_mb={peer.PeakRssMb:0.0}"));
            }
            if (results.ColdStart is { } ourCold)
            {
                double ratio = ourCold.Product.Median / peer.ColdStart.Median;
                Line("cold_start_to_peer", ratio, "0.00", "<=0.30", ratio <= 0.30,
                    Invariant($"ours_median_ms={ourCold.Product.Median:0} peer_median_ms={peer.ColdStart.Median:0} ours_cpu_median_ms={ourCold.Product.CpuMedian:0} peer_cpu_median_ms={peer.ColdStart.CpuMedian:0}"));
            }
        }
    }

    private static void Line(string name, double value, string format, string limit, bool met, string detail) =>
        Console.WriteLine($"target={name} value={value.ToString(format, CultureInfo.InvariantCulture)} limit{limit} met={(met ? "yes" : "no")}" + (detail.Length > 0 ? " " + detail : ""));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
