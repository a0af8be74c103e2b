using System.Diagnostics;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>Debian's python3-bcrypt (OpenBSD's C bcrypt), driven through /usr/bin/python3. CI installs it with apt.</summary>
internal static class PythonBcrypt
{
    private const string Interpreter = "/usr/bin/python3";

    public static bool IsInstalled { get; } = Probe();

    /// <summary>Runs a Python script with bcrypt imported; lines in, lines out.</summary>
    public static async Task<string[]> RunAsync(string script, IEnumerable<string> inputLines)
    {
        var start = new ProcessStartInfo(Interpreter)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("import bcrypt, sys\n" + script);
        using var process = Process.Start(start)!;
        foreach (var line in inputLines)
        {
            await process.StandardInput.WriteLineAsync(line);
        }
        process.StandardInput.Close();
        string output = await process.StandardOutput.ReadToEndAsync();
        string error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException("python3-bcrypt failed: " + error);
        }
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static bool Probe()
    {
        if (!File.Exists(Interpreter))
        {
            return false;
        }
        using var process = Process.Start(new ProcessStartInfo(Interpreter, "-c \"import bcrypt\"") { RedirectStandardError = true, UseShellExecute = false });
        process!.WaitForExit();
        return process.ExitCode == 0;
    }
}

/// <summary>
/// A fact that needs python3-bcrypt. Skipped (saying why) on a developer machine without it;
/// in CI (<c>CI=true</c>), where .ci/run installs it, it always runs, so a missing install fails loudly.
/// </summary>
public sealed class PythonBcryptFactAttribute : FactAttribute
{
    public PythonBcryptFactAttribute()
    {
        if (!PythonBcrypt.IsInstalled && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Skip = "Debian's python3-bcrypt is not installed (apt-get install python3-bcrypt); .ci/run installs it.";
        }
    }
}
