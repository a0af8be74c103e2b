using AuthFunctions.Benchmarks;

// Usage: AuthFunctions.Benchmarks [bcrypt] [soak] [service] [coldstart] [host] [--quick]
// (service includes the ASP.NET Core Identity peer; coldstart, by working directory, and host, through the real
// Functions host beside its bare isolated-worker floor, run only when named)
// Everything runs on loopback, bounded in time; the processes it starts are ended by PID.
bool quick = args.Contains("--quick");
var suites = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToHashSet();
bool all = suites.Count == 0;
int exitCode = 0;
if (all || suites.Contains("bcrypt"))
{
    await BcryptBenchmark.RunAsync(quick);
}
if (all || suites.Contains("soak") || suites.Contains("service") || suites.Contains("coldstart") || suites.Contains("host"))
{
    using var stack = await Stack.StartAsync(hostStorage: suites.Contains("host"));
    if (all || suites.Contains("soak"))
    {
        bool clean = await Soak.RunAsync(stack, TimeSpan.FromSeconds(quick ? 10 : 60), workers: 8);
        exitCode = clean ? 0 : 1;
    }
    if (all || suites.Contains("service"))
    {
        await ServiceBenchmark.RunAsync(stack, quick);
    }
    if (suites.Contains("coldstart"))
    {
        await ColdStartDirectories.RunAsync(stack, quick);
    }
    if (suites.Contains("host"))
    {
        await HostBenchmark.RunAsync(stack, quick);
    }
}
return exitCode;
