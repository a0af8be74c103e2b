using System.Diagnostics;
using System.Globalization;
using AuthFunctions.Passwords;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Benchmarks;

/// <summary>
/// In process: milliseconds per check of a new password (NewPasswordPolicy: lengths, lists, zxcvbn) beside one bcrypt
/// hash at cost 12, and what each Passwords__MinimumStrength refuses of 1,000 random 3- and 2-word passphrases and of
/// the estimator's 1,000 most common passwords, as they are and dressed up (capitalized, with an ending).
/// </summary>
internal static class PasswordPolicyBenchmark
{
    private const string Email = "someone@example.com";

    public static async Task RunAsync(bool quick)
    {
        using var threads = new HashingThreads(1);
        var passphrases = PasswordSamples.Passphrases(1000);
        var common = PasswordSamples.CommonPasswords(1000);
        var policies = Enumerable.Range(NewPasswordPolicy.LowestScore, NewPasswordPolicy.HighestScore + 1)
            .Select(minimum => new NewPasswordPolicy(Options.Create(new PasswordPolicyOptions { MinimumStrength = minimum }), threads, NewPasswordPolicy.AppNames(null, null)))
            .ToList();
        var stopwatch = Stopwatch.StartNew();
        policies[0].Weaknesses("first use loads the lists", Email, null);
        double firstCallMs = stopwatch.Elapsed.TotalMilliseconds;

        // Per call: passphrases and common passwords, and random 72-byte strings apart (the longest accepted, the costliest).
        var random = new Random(7);
        const string printable = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !@#$%^&*()-_=+[]{};:,.<>/?|";
        var longest = Enumerable.Range(0, quick ? 30 : 200).Select(_ => new string([.. Enumerable.Range(0, 72).Select(_ => printable[random.Next(printable.Length)])])).ToList();
        var policy = policies[PasswordPolicyOptions.DefaultMinimumStrength];
        var typical = Time(policy, [.. passphrases.Take(quick ? 200 : 1000), .. common.Take(quick ? 200 : 1000)]);
        var costliest = Time(policy, longest);
        using var metrics = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var hasher = new PasswordHasher(Options.Create(new PasswordHashingOptions { BcryptCost = 12 }), threads,
            metrics.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), NullLogger<PasswordHasher>.Instance);
        await hasher.HashAsync("warm-up password");
        var bcrypt = new List<double>();
        for (int i = 0; i < (quick ? 3 : 8); i++)
        {
            stopwatch.Restart();
            await hasher.HashAsync("benchmark password");
            bcrypt.Add(stopwatch.Elapsed.TotalMilliseconds);
        }
        bcrypt.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench=password-policy first_call_ms={firstCallMs:0} typical_calls={typical.Count} p50_ms={Percentile(typical, 0.50):0.00} p99_ms={Percentile(typical, 0.99):0.00} random_72_byte_calls={costliest.Count} p50_ms={Percentile(costliest, 0.50):0.00} p99_ms={Percentile(costliest, 0.99):0.00} bcrypt_cost12_p50_ms={Percentile(bcrypt, 0.50):0.0}"));

        // The shares from the full samples; --quick keeps the first 200 of each.
        int size = quick ? 200 : 1000;
        var sampled = new (string Name, IReadOnlyList<string> Passwords)[]
        {
            ("passphrases_3_words", [.. passphrases.Take(size)]),
            ("passphrases_2_words", PasswordSamples.Passphrases(size, words: 2)),
            ("common", [.. common.Take(size)]),
            ("common_of_8_or_more_characters", [.. common.Take(size).Where(p => NewPasswordPolicy.LengthWeaknesses(p).Count == 0)]),
            ("common_capitalized_with_ending", PasswordSamples.DressedCommonPasswords(size)),
        };
        foreach (var (minimum, candidate) in policies.Index())
        {
            var shares = sampled.Select(sample => string.Create(CultureInfo.InvariantCulture,
                $"{sample.Name}_refused={sample.Passwords.Count(p => candidate.Weaknesses(p, Email, null).Count > 0) * 100.0 / sample.Passwords.Count:0.0}%"));
            Console.WriteLine($"bench=password-policy-sample size={size} minimum_strength={minimum}{(minimum == PasswordPolicyOptions.DefaultMinimumStrength ? "(default)" : "")} {string.Join(' ', shares)}");
        }
    }

    private static List<double> Time(NewPasswordPolicy policy, List<string> passwords)
    {
        var samples = new List<double>(passwords.Count);
        foreach (var password in passwords)
        {
            long started = Stopwatch.GetTimestamp();
            policy.Weaknesses(password, Email, null);
            samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        samples.Sort();
        return samples;
    }

    private static double Percentile(List<double> sorted, double share) => sorted[Math.Min(sorted.Count - 1, (int)(sorted.Count * share))];
}
