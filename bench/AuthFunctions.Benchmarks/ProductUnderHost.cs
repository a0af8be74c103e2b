namespace AuthFunctions.Benchmarks;

/// <summary>
/// The seam where the product meets the Functions host in the benchmark: which folder the host loads and which
/// app settings the worker gets. Every suite that measures the app starts it through here (<see cref="Stack.StartProduct"/>),
/// exactly as the floor (bench/BareFunction) is started, so the two compare.
/// </summary>
internal static class ProductUnderHost
{
    /// <summary>Answers 200 once the app serves (storage reachable); no token needed.</summary>
    public const string ReadyPath = "/api/health";

    /// <summary>The measured call: a bearer-token check, decided from the revocation feed (the default mode).</summary>
    public const string ProtectedPath = "/api/protected";

    /// <summary>
    /// The deployable package: scripts/package's output (artifacts/package), the isolated worker's publish output
    /// (ReadyToRun, linux-x64, framework-dependent), as Azure runs it. bench/run builds it before the benchmark.
    /// </summary>
    public static FunctionsApp Package(string repositoryRoot)
    {
        string package = Path.Combine(repositoryRoot, "artifacts", "package");
        foreach (string file in new[] { "functions.metadata", "worker.config.json", "AuthFunctions.dll" })
        {
            if (!File.Exists(Path.Combine(package, file)))
            {
                throw new InvalidOperationException($"{package} has no {file}: run scripts/package (bench/run does)");
            }
        }
        return new FunctionsApp("authfunctions-worker", package, FunctionsApp.DotnetIsolated);
    }

    /// <summary>
    /// Settings the worker needs under the host beside those of every measurement (<see cref="Stack.AppSettings"/>): the
    /// cleanup and backup timers' schedules (a trigger whose <c>%Cleanup__Schedule%</c> is missing fails indexing; these fire once a
    /// year, never during a run) and no SMTP server (emails are skipped; the requests answer as usual).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> HostSettings = new Dictionary<string, string>
    {
        ["Cleanup__Schedule"] = "0 0 0 1 1 *",
        ["Backup__Schedule"] = "0 0 0 1 1 *",
        ["Email__SmtpHost"] = "",
    };
}
