using System.Diagnostics;
using System.Globalization;
using AuthFunctions.Auth;
using AuthFunctions.Passwords;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Benchmarks;

/// <summary>
/// Milliseconds per bcrypt hash at costs 10 and 12: the app's PasswordHasher (BCrypt.Net-Next, on its hashing threads)
/// and, in the same run, the C code behind Debian's python3-bcrypt.
/// </summary>
internal static class BcryptBenchmark
{
    public static async Task RunAsync(bool quick)
    {
        int[] costs = quick ? [10] : [10, 12];
        using var metrics = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var threads = new HashingThreads(1);
        foreach (int cost in costs)
        {
            int iterations = cost >= 12 ? (quick ? 3 : 8) : (quick ? 8 : 24);
            var hasher = new PasswordHasher(
                Options.Create(new PasswordHashingOptions { BcryptCost = cost }), threads, metrics.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), NullLogger<PasswordHasher>.Instance);
            await hasher.HashAsync("warm-up password");
            var samples = new List<double>();
            for (int i = 0; i < iterations; i++)
            {
                var stopwatch = Stopwatch.StartNew();
                await hasher.HashAsync("benchmark password");
                samples.Add(stopwatch.Elapsed.TotalMilliseconds);
            }
            double ours = Median(samples);
            double? theirs = await MeasurePythonBcryptAsync(cost, iterations);
            string ratio = theirs is { } c ? (ours / c).ToString("0.00", CultureInfo.InvariantCulture) : "n/a";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"bench=bcrypt cost={cost} ours_ms={ours:0.0} c_python3_bcrypt_ms={(theirs is { } t ? t.ToString("0.0", CultureInfo.InvariantCulture) : "n/a")} ratio_ours_to_c={ratio} target_ratio<=1.3"));
        }
    }

    private static double Median(List<double> samples)
    {
        samples.Sort();
        return samples[samples.Count / 2];
    }

    private static async Task<double?> MeasurePythonBcryptAsync(int cost, int iterations)
    {
        const string interpreter = "/usr/bin/python3";
        if (!File.Exists(interpreter))
        {
            return null;
        }
        var start = new ProcessStartInfo(interpreter) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(
            $"""
            import bcrypt, time
            salt = bcrypt.gensalt(rounds={cost})
            bcrypt.hashpw(b"warm-up password", salt)
            samples = []
            for _ in range({iterations}):
                t = time.perf_counter(); bcrypt.hashpw(b"benchmark password", salt); samples.append((time.perf_counter() - t) * 1000)
            samples.sort(); print(samples[len(samples) // 2])
            """);
        using var process = Process.Start(start)!;
        string output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0 && double.TryParse(output.Trim(), CultureInfo.InvariantCulture, out var ms) ? ms : null;
    }
}
