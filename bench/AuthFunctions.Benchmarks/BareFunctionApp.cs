namespace AuthFunctions.Benchmarks;

/// <summary>bench/BareFunction, built Release by the benchmark: the floor under the host.</summary>
internal static class BareFunctionApp
{
    /// <summary>The floor's one function: anonymous GET, 200 "ok".</summary>
    public const string RequestPath = "/api/bare";

    public static async Task<FunctionsApp> BuildAsync(string repositoryRoot)
    {
        string project = Path.Combine(repositoryRoot, "bench", "BareFunction", "BareFunction.csproj");
        var build = await Dotnet.RunAsync(repositoryRoot, "build", project, "-c", "Release", "-nologo", "-v:q", "-clp:NoSummary");
        if (build.ExitCode != 0)
        {
            throw new InvalidOperationException("bench/BareFunction does not build:\n" + build.Output);
        }
        return new FunctionsApp("bare-isolated", Path.Combine(repositoryRoot, "bench", "BareFunction", "bin", "Release", "net10.0"));
    }
}
