using AuthFunctions.Benchmarks;

// Usage: AuthFunctions.Benchmarks [bcrypt] [passwords] [soak] [service] [coldstart] [revocation] [peer] [--quick] [--rounds=N]
// (none named: all). Everything but bcrypt and passwords (in process) runs the app through the real Functions host, as Azure serves it; the
// last lines (target=...) set the issue's figures beside their targets. Timing numbers are printed, never judged:
// the exit code is 1 only when the soak saw a 5xx or an unexpected status (or a suite could not run).
// Everything runs on loopback, bounded in time; the processes it starts are ended by PID.
string[] known = ["bcrypt", "passwords", "soak", "service", "coldstart", "revocation", "peer"];
bool quick = args.Contains("--quick");
// --rounds=N: the service suite's interleaved rounds of the floor and protected (default 1 in --quick, 3 otherwise).
int? rounds = args.FirstOrDefault(a => a.StartsWith("--rounds=", StringComparison.Ordinal)) is { } roundsArgument &&
              int.TryParse(roundsArgument["--rounds=".Length..], System.Globalization.CultureInfo.InvariantCulture, out int parsedRounds) && parsedRounds > 0
    ? parsedRounds : null;
var suites = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToHashSet();
if (suites.Except(known).FirstOrDefault() is { } unknown)
{
    Console.Error.WriteLine($"unknown suite {unknown}: use {string.Join(", ", known)}, and --quick");
    return 2;
}
bool all = suites.Count == 0;
bool Runs(string suite) => all || suites.Contains(suite);
int exitCode = 0;
var clock = System.Diagnostics.Stopwatch.StartNew();
if (Runs("bcrypt"))
{
    await BcryptBenchmark.RunAsync(quick);
}
if (Runs("passwords"))
{
    await PasswordPolicyBenchmark.RunAsync(quick);
}
if (known.Skip(2).Any(Runs))
{
    using var stack = await Stack.StartAsync();
    var results = new Targets.Results { LoadAverageBefore = ServiceBenchmark.LoadAverage() };
    if (Runs("soak"))
    {
        bool clean = await Soak.RunAsync(stack, TimeSpan.FromSeconds(quick ? 10 : 60), workers: 8);
        exitCode = clean ? 0 : 1;
    }
    var bare = Runs("service") || Runs("coldstart") ? await BareFunctionApp.BuildAsync(stack.Root) : null;
    if (Runs("service"))
    {
        results.Service = await ServiceBenchmark.RunAsync(stack, bare!, quick, rounds);
    }
    if (Runs("coldstart"))
    {
        results.ColdStart = quick && results.Service is { ProductStart: { } productStart } service
            ? ColdStart.FromSamples(stack.Product.Name, productStart, bare!.Name, service.FloorStart)
            : await ColdStart.RunAsync(stack, bare!, runs: quick ? 1 : 5);
    }
    if (Runs("revocation"))
    {
        results.Revocation = await RevocationVisibility.RunAsync(stack, quick ? 5 : 20);
    }
    if (Runs("peer"))
    {
        results.Peer = await PeerBenchmark.RunAsync(stack, quick);
    }
    results.LoadAverageAfter = ServiceBenchmark.LoadAverage();
    Targets.Print(results);
}
Console.WriteLine($"bench=done seconds={clock.Elapsed.TotalSeconds:0} exit_code={exitCode}");
return exitCode;
