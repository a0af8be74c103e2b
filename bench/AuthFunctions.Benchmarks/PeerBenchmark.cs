using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace AuthFunctions.Benchmarks;

/// <summary>
/// The peer measured beside us in the same run: ASP.NET Core Identity's bearer endpoints
/// (<c>MapIdentityApi</c> over EF Core SQLite, bench/IdentityPeer), with the same logging, load and
/// measurements as ours (ours through the Functions host, the peer as a plain ASP.NET Core app, which is how it
/// would be deployed): CPU per request on <c>GET /manage/info</c> (token check plus its user read),
/// peak RSS under that load, cold start to the first authenticated 200 with a token an earlier
/// instance issued over the same SQLite file and data-protection keys.
/// </summary>
internal static class PeerBenchmark
{
    // Identity's default password rules want a digit, an upper-case letter and a symbol.
    private const string Password = "Bench-password-1";

    internal sealed record Figures(double ProtectedCpuMs, double PeakRssMb, ColdStart.Samples ColdStart);

    /// <summary>Builds and measures the peer; null (after a printed <c>skipped=</c> line) when this environment cannot build it.</summary>
    public static async Task<Figures?> RunAsync(Stack stack, bool quick)
    {
        string project = Path.Combine(stack.Root, "bench", "IdentityPeer", "IdentityPeer.csproj");
        var restore = await Dotnet.RunAsync(stack.Root, "restore", project, "-nologo", "-v:q");
        if (restore.ExitCode != 0)
        {
            // The NuGet feed here is a partial copy: a missing package is an environment limit, not a failure of ours.
            string missing = restore.Output.Split('\n').FirstOrDefault(line => line.Contains("NU1101", StringComparison.Ordinal) || line.Contains("NU1102", StringComparison.Ordinal))?.Trim() ?? "restore failed";
            Console.WriteLine($"bench=peer_identity skipped=peer-packages-not-restorable detail=\"{missing.Replace('"', '\'')}\"");
            return null;
        }
        var build = await Dotnet.RunAsync(stack.Root, "build", project, "-c", "Release", "--no-restore", "-nologo", "-v:q", "-clp:NoSummary");
        if (build.ExitCode != 0)
        {
            throw new InvalidOperationException("bench/IdentityPeer does not build:\n" + build.Output);
        }

        string binaries = Path.Combine(stack.Root, "bench", "IdentityPeer", "bin", "Release", "net10.0");
        string data = Directory.CreateTempSubdirectory("authfunctions-peer-").FullName;
        try
        {
            int seconds = quick ? 4 : 10;
            string access;
            ServiceBenchmark.WrkResult info;
            double peakRss;
            using (var peer = Start(binaries, data))
            {
                using var client = Stack.Client(peer);
                await WaitReadyAsync(client);
                string email = $"peer-{Guid.NewGuid():N}@example.com";
                var registered = await client.PostAsJsonAsync("/register", new { email, password = Password });
                if (!registered.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"the peer's /register answered {(int)registered.StatusCode}");
                }
                var login = await client.PostAsJsonAsync("/login", new { email, password = Password });
                access = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
                // Loaded as ours is under the host (HostLoad): a warm-up of the same length, then wrk -t1 -c8.
                await ServiceBenchmark.RunWrkAsync(peer, "/manage/info", access, null, seconds, HostLoad.Connections, threads: 1);
                info = await ServiceBenchmark.RunWrkAsync(peer, "/manage/info", access, null, seconds, HostLoad.Connections, threads: 1);
                peakRss = peer.RssMegabytes("VmHWM");
            }
            ServiceBenchmark.Print("peer_identity_manage_info", info);
            if (info.Non2xx > 0)
            {
                throw new InvalidOperationException($"the peer answered {info.Non2xx} non-2xx responses to /manage/info");
            }
            var cold = await ColdStart.MeasureAsync(() => Start(binaries, data), "/manage/info", access, quick ? 3 : 5);
            Console.WriteLine(Invariant($"bench=peer_identity_memory peak_rss_mb={peakRss:0.0}"));
            Console.WriteLine($"bench=peer_identity_cold_start {cold.Format()}");
            return new Figures(info.CpuMsPerRequest, peakRss, cold);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task WaitReadyAsync(HttpClient client)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            try
            {
                if ((await client.GetAsync("/")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(5);
        }
        throw new TimeoutException("the peer did not answer GET / within 60 s");
    }

    private static ChildProcess Start(string binaries, string data)
    {
        int port = ChildProcess.FreePort();
        var environment = new Dictionary<string, string>
        {
            ["PEER_PORT"] = port.ToString(CultureInfo.InvariantCulture),
            ["PEER_DATA"] = data,
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        // Its own output folder is its content root, as for an app deployed from its publish folder.
        return ChildProcess.Start("dotnet", [Path.Combine(binaries, "IdentityPeer.dll")], environment, port, binaries);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
