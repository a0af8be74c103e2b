using System.Text;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Hosting;

/// <summary>
/// Tests name settings with <c>:</c>; <see cref="TestApp"/> hands them to the Functions host as environment variables
/// with <c>__</c>, as Azure's app settings are, and the host passes its environment on to the worker. This reads the
/// running worker's own environment (<c>/proc/{pid}/environ</c>) to show that every setting family reaches the product
/// that way, and none with a <c>:</c> name.
/// </summary>
public sealed class SettingsEnvironmentTests
{
    private static readonly string[] Families = ["Auth", "Throttle", "RateLimit", "Introspection", "Cors", "Storage", "Email", "Cleanup", "Logging"];

    [Fact]
    public async Task EveryFamilyReachesTheWorkerAsDoubleUnderscoreEnvironmentVariables()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["Throttle:FreeAttempts"] = "4",
            ["Introspection:Clients:0:Id"] = "orders-api",
            ["Introspection:Clients:0:Secret"] = "0123456789abcdef0123456789abcdef-orders",
            ["Cors:AllowedOrigins"] = "https://app.example.test",
        });

        var environment = await WorkerEnvironmentAsync(app.Host.ProcessId);

        foreach (var (name, value) in app.Settings.Where(s => s.Value is not null))
        {
            string variable = name.Replace(":", "__", StringComparison.Ordinal);
            Assert.True(environment.TryGetValue(variable, out var seen) && seen == value, $"the worker has no {variable} with the value set");
        }
        Assert.All(Families, family => Assert.Contains(environment.Keys, key => key.StartsWith(family + "__", StringComparison.Ordinal)));
        Assert.DoesNotContain(environment.Keys, key => Families.Any(family => key.StartsWith(family + ":", StringComparison.Ordinal)));
        Assert.Equal("4", environment["Throttle__FreeAttempts"]);
        Assert.Equal("orders-api", environment["Introspection__Clients__0__Id"]);
    }

    /// <summary>The environment of the host's worker: the descendant process running AuthFunctions.dll.</summary>
    private static async Task<Dictionary<string, string>> WorkerEnvironmentAsync(int hostProcessId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            foreach (int pid in Descendants(hostProcessId))
            {
                string commandLine = Read($"/proc/{pid}/cmdline").Replace('\0', ' ');
                if (commandLine.Contains("AuthFunctions.dll", StringComparison.Ordinal))
                {
                    return Read($"/proc/{pid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries)
                        .Select(entry => entry.Split('=', 2)).Where(parts => parts.Length == 2)
                        .GroupBy(parts => parts[0]).ToDictionary(g => g.Key, g => g.Last()[1]);
                }
            }
            Assert.True(DateTime.UtcNow < deadline, "no worker process (AuthFunctions.dll) under the host");
            await Task.Delay(100);
        }
    }

    private static IEnumerable<int> Descendants(int parent)
    {
        var children = Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(name => name!.All(char.IsAsciiDigit)).Select(name => int.Parse(name!, System.Globalization.CultureInfo.InvariantCulture))
            .Where(pid => ParentOf(pid) == parent).ToList();
        return children.Concat(children.SelectMany(Descendants));
    }

    private static int? ParentOf(int pid)
    {
        string stat = Read($"/proc/{pid}/stat");
        int close = stat.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }
        var fields = stat[(close + 2)..].Split(' ');
        return fields.Length > 1 && int.TryParse(fields[1], System.Globalization.CultureInfo.InvariantCulture, out int ppid) ? ppid : null;
    }

    private static string Read(string path)
    {
        try
        {
            return Encoding.UTF8.GetString(File.ReadAllBytes(path));
        }
        catch (Exception failure) when (failure is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
