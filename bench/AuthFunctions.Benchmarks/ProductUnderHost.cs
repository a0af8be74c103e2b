using System.Text.Json.Nodes;

namespace AuthFunctions.Benchmarks;

/// <summary>
/// The seam where the product meets the Functions host in the benchmark: which folder the host loads, with
/// which worker runtime and which app settings. <see cref="HostBenchmark"/> measures whatever this returns
/// exactly as it measures the floor (bench/BareFunction), so the two compare.
/// <para>
/// Today the product is the custom-handler package (scripts/package → artifacts/package) in forwarding mode:
/// the "before" of the move to the isolated worker. When the worker exists, <see cref="PrepareAsync"/> returns
/// its output instead — build it as <see cref="BareFunctionApp.BuildAsync"/> builds the floor, and return
/// <c>new FunctionsApp("product-isolated", output, FunctionsApp.DotnetIsolated)</c> — and the custom-handler
/// branch goes. <see cref="Settings"/>, <see cref="ReadyPath"/> and <see cref="ProtectedPath"/> stay as they are
/// unless the worker changes its routes or settings. Nothing else in the host benchmark changes.
/// </para>
/// </summary>
internal static class ProductUnderHost
{
    /// <summary>Answers 200 once the app serves (storage reachable); no token needed.</summary>
    public const string ReadyPath = "/api/health";

    /// <summary>The measured call: a bearer-token check, decided from the revocation feed (the default mode).</summary>
    public const string ProtectedPath = "/api/protected";

    /// <summary>The product's app settings under the host: those of every other measurement (<see cref="Stack.AppSettings"/>).</summary>
    public static Dictionary<string, string> Settings(Stack stack) => stack.AppSettings();

    public static Task<FunctionsApp> PrepareAsync(Stack stack, FunctionsHost host) => Task.FromResult(CustomHandlerPackage(stack, host));

    /// <summary>
    /// The custom-handler package as Azure runs it. The package's host.json asks for
    /// <c>enableProxyingHttpRequest</c>, which the shared 2024 host does not know (it would pass each request to
    /// the handler wrapped in an invocation payload); for that host the benchmark loads a copy of the package
    /// root (symbolic links to the package's folders, host.json rewritten) that sets the older
    /// <c>enableForwardingHttpRequest</c>, which forwards each request as HTTP.
    /// </summary>
    private static FunctionsApp CustomHandlerPackage(Stack stack, FunctionsHost host)
    {
        string package = Path.Combine(stack.Root, "artifacts", "package");
        if (!File.Exists(Path.Combine(package, "app", "AuthFunctions")))
        {
            throw new InvalidOperationException($"{package} has no app/AuthFunctions: run scripts/package (bench/run does)");
        }
        if (host.Kind != FunctionsHostKind.SharedHost)
        {
            return new FunctionsApp("product-custom-handler", package, FunctionsApp.Custom);
        }
        string root = Path.Combine(stack.Root, "artifacts", "bench-host", "custom-handler-forwarding");
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
        Directory.CreateDirectory(root);
        foreach (string entry in Directory.EnumerateFileSystemEntries(package))
        {
            string name = Path.GetFileName(entry);
            if (name != "host.json")
            {
                File.CreateSymbolicLink(Path.Combine(root, name), entry);
            }
        }
        var hostJson = JsonNode.Parse(File.ReadAllText(Path.Combine(package, "host.json")))!;
        if (hostJson["customHandler"] is not JsonObject customHandler)
        {
            throw new InvalidOperationException($"{package}/host.json has no customHandler section");
        }
        customHandler["enableForwardingHttpRequest"] = true;
        File.WriteAllText(Path.Combine(root, "host.json"), hostJson.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        return new FunctionsApp("product-custom-handler", root, FunctionsApp.Custom);
    }
}
