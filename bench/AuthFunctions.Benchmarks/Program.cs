using AuthFunctions.Benchmarks;

// Usage: AuthFunctions.Benchmarks [bcrypt] [--quick]
bool quick = args.Contains("--quick");
var suites = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToHashSet();
if (suites.Count == 0 || suites.Contains("bcrypt"))
{
    await BcryptBenchmark.RunAsync(quick);
}
