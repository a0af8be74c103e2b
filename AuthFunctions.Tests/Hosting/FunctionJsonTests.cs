using System.Text.Json;
using AuthFunctions.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;

namespace AuthFunctions.Tests.Hosting;

/// <summary>
/// The Functions host forwards only the routes and methods that a function.json declares (anything
/// else gets the host's own empty 404): the folders and the app must agree.
/// </summary>
public sealed class FunctionJsonTests : AppTestBase
{
    private static IEnumerable<(string Folder, List<JsonElement> Bindings)> FunctionFolders()
    {
        foreach (var file in Directory.GetFiles(RepositoryRoot.Path, "function.json", SearchOption.AllDirectories)
                     .Where(f => !f.Contains("node_modules", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/artifacts/", StringComparison.Ordinal)))
        {
            Assert.Equal(RepositoryRoot.Path, Path.GetDirectoryName(Path.GetDirectoryName(file)));
            using var document = JsonDocument.Parse(File.ReadAllText(file));
            yield return (Path.GetFileName(Path.GetDirectoryName(file)!), document.RootElement.GetProperty("bindings").EnumerateArray().Select(b => b.Clone()).ToList());
        }
    }

    internal static IEnumerable<(string Folder, string Method, string Route)> DeclaredFunctions()
    {
        foreach (var (folder, bindings) in FunctionFolders().Where(f => !IsTimer(f.Bindings)))
        {
            // HTTP pass-through applies only to exactly one httpTrigger in and one http out.
            Assert.Equal(2, bindings.Count);
            var trigger = Assert.Single(bindings, b => b.GetProperty("type").GetString() == "httpTrigger");
            Assert.Single(bindings, b => b.GetProperty("type").GetString() == "http" && b.GetProperty("direction").GetString() == "out");
            Assert.Equal("anonymous", trigger.GetProperty("authLevel").GetString());
            string route = trigger.TryGetProperty("route", out var r) ? r.GetString()! : folder;
            foreach (var method in trigger.GetProperty("methods").EnumerateArray())
            {
                yield return (folder, method.GetString()!.ToUpperInvariant(), route);
            }
        }
    }

    private static bool IsTimer(List<JsonElement> bindings) => bindings.Any(b => b.GetProperty("type").GetString() == "timerTrigger");

    /// <summary>A custom handler gets a non-HTTP trigger as a POST to /{function name}.</summary>
    [Fact]
    public void EveryTimerFunctionIsServedAsAPostToItsName()
    {
        var timers = FunctionFolders().Where(f => IsTimer(f.Bindings)).ToList();
        var served = App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"]).Select(m => (m, e.RoutePattern.RawText!.TrimStart('/'))))
            .ToHashSet();

        Assert.Contains(timers, t => t.Folder == "cleanup");
        foreach (var (folder, bindings) in timers)
        {
            Assert.Single(bindings);
            Assert.True(served.Contains(("POST", folder)), $"{folder}/function.json is a timer, but the app does not serve POST /{folder}");
        }
    }

    private IEnumerable<(string Method, string Route)> AppRoutes() =>
        App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.TrimStart('/').StartsWith("api/", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"])
                .Select(m => (m, e.RoutePattern.RawText!.TrimStart('/')["api/".Length..])));

    [Fact]
    public void EveryFunctionFolderIsServedByTheApp()
    {
        var declared = DeclaredFunctions().ToList();
        var served = AppRoutes().ToHashSet();

        Assert.True(declared.Count >= 10, "expected a function.json per function");
        foreach (var (folder, method, route) in declared.Where(d => d.Method != "OPTIONS"))
        {
            Assert.True(served.Contains((method, route)), $"{folder}/function.json declares {method} {route}, which the app does not serve");
        }
    }

    [Fact]
    public void EveryApiRouteHasAFunctionFolder()
    {
        var declared = DeclaredFunctions().Select(d => (d.Method, d.Route)).ToHashSet();
        foreach (var (method, route) in AppRoutes())
        {
            Assert.True(declared.Contains((method, route)), $"the app serves {method} /api/{route} but no function.json forwards it");
        }
    }

    [Fact]
    public void EveryFunctionForwardsPreflightsAndOnlyHealthForwardsHead()
    {
        var declared = DeclaredFunctions().ToList();
        foreach (var folder in declared.Select(d => d.Folder).Distinct())
        {
            Assert.True(declared.Contains((folder, "OPTIONS", declared.First(d => d.Folder == folder).Route)), $"{folder}/function.json does not list options, so CORS preflights never reach the app");
        }
        // HEAD for uptime probes; elsewhere the host's 404 is the right answer to HEAD.
        Assert.Equal(["health"], declared.Where(d => d.Method == "HEAD").Select(d => d.Folder));
    }

    [Fact]
    public void HostJsonUsesHttpPassThroughToThePublishedExecutable()
    {
        using var host = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "host.json")));
        var handler = host.RootElement.GetProperty("customHandler");
        Assert.True(handler.GetProperty("enableProxyingHttpRequest").GetBoolean());
        Assert.EndsWith("AuthFunctions", handler.GetProperty("description").GetProperty("defaultExecutablePath").GetString(), StringComparison.Ordinal);
        Assert.Equal("api", host.RootElement.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString());
    }
}
