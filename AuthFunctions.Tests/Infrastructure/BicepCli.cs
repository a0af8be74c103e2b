using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// The Bicep CLI from the Azure.Bicep.CommandLine.linux-x64 package, which the test project
/// downloads with its normal restore (PackageDownload): no separate install, no network here.
/// </summary>
internal static class BicepCli
{
    public static string Version { get; } = Metadata("BicepVersion");

    public static string ExecutablePath { get; } = Locate();

    public static async Task<BicepRun> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(ExecutablePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepositoryRoot.Path,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return new BicepRun(string.Join(' ', arguments), process.ExitCode, await output, await error, clock.Elapsed);
    }

    private static string Locate()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux) || RuntimeInformation.OSArchitecture != Architecture.X64)
        {
            throw new PlatformNotSupportedException("The Bicep CLI package the tests restore is the linux-x64 build.");
        }
        string? fromEnvironment = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        var roots = new[]
        {
            string.IsNullOrEmpty(fromEnvironment) ? null : fromEnvironment,
            Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
            // The packages folder of the build, if nuget.config moved it elsewhere.
            Metadata("NuGetPackageRoot"),
        };
        var candidates = roots.Where(r => !string.IsNullOrEmpty(r))
            .Select(r => Path.Combine(r!, "azure.bicep.commandline.linux-x64", Version, "tools", "bicep"))
            .ToList();
        string path = candidates.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException($"bicep {Version} is not restored; run `dotnet restore AuthFunctions.Tests`. Looked in: {string.Join(", ", candidates)}");
        // NuGet extracts files without execute permission for other users.
        var mode = File.GetUnixFileMode(path);
        const UnixFileMode execute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        if ((mode & execute) != execute)
        {
            try
            {
                File.SetUnixFileMode(path, mode | execute);
            }
            catch (UnauthorizedAccessException)
            {
                // Not ours to change: it runs if the owner's bits allow this user.
            }
        }
        return path;
    }

    private static string Metadata(string key) =>
        typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value ?? "";
}

/// <summary>One run of the CLI. Bicep exits 0 on warnings and prints each diagnostic on its own line.</summary>
internal sealed record BicepRun(string Command, int ExitCode, string StandardOutput, string StandardError, TimeSpan Elapsed)
{
    public IReadOnlyList<string> Diagnostics { get; } =
        (StandardOutput + "\n" + StandardError).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public string Describe() => $"bicep {Command} exited {ExitCode}:\n{string.Join('\n', Diagnostics)}";
}
