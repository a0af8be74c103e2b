using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;

namespace AuthFunctions.Benchmarks;

/// <summary>
/// Cold start as a user meets it: from starting the process to the first authenticated 200, with a
/// token an earlier instance issued. Each run's process is ended (by PID) before the next starts.
/// </summary>
internal static class ColdStart
{
    /// <summary>Wall time and the process's own CPU time at the first 200 (the CPU figure moves less on a shared machine).</summary>
    internal sealed record Samples(double Median, double Min, double Max, double CpuMedian, int Runs)
    {
        public string Format() => string.Create(CultureInfo.InvariantCulture, $"runs={Runs} median_ms={Median:0} min_ms={Min:0} max_ms={Max:0} cpu_median_ms={CpuMedian:0}");

        public static Samples Of(List<double> wall, List<double> cpu)
        {
            wall.Sort();
            cpu.Sort();
            return new Samples(wall[wall.Count / 2], wall[0], wall[^1], cpu[cpu.Count / 2], wall.Count);
        }
    }

    public static async Task<Samples> MeasureAsync(Func<IServedApp> start, string path, string? bearer, int runs)
    {
        var wall = new List<double>();
        var cpu = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            var (elapsed, cpuTime) = await OnceAsync(start, path, bearer);
            wall.Add(elapsed);
            cpu.Add(cpuTime);
        }
        return Samples.Of(wall, cpu);
    }

    /// <summary>One cold start: wall milliseconds and the process's CPU milliseconds at its first authenticated 200.</summary>
    public static async Task<(double Wall, double Cpu)> OnceAsync(Func<IServedApp> start, string path, string? bearer)
    {
        {
            var watch = Stopwatch.StartNew();
            using var process = start();
            using var client = Stack.Client(process);
            bool answered = false;
            while (!answered && watch.Elapsed < TimeSpan.FromSeconds(60))
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
                catch (HttpRequestException)
                {
                    await Task.Delay(2);
                }
            }
            if (!answered)
            {
                throw new TimeoutException($"no authenticated 200 from {path} within 60 s of the process start");
            }
            return (watch.Elapsed.TotalMilliseconds, process.CpuTime().TotalMilliseconds);
        }
    }
}
