using System.Diagnostics;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>Runs one of the repository's scripts (scripts/…) from the repository root, as a user would.</summary>
internal static class ScriptRunner
{
    public static Task<ScriptRun> RunAsync(string script, params string[] arguments) =>
        RunAsync(script, new Dictionary<string, string?>(), arguments);

    public static async Task<ScriptRun> RunAsync(string script, IReadOnlyDictionary<string, string?> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = RepositoryRoot.Path,
        };
        start.ArgumentList.Add(Path.Combine(RepositoryRoot.Path, script));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{script} did not finish within 3 minutes");
        }
        return new ScriptRun(process.ExitCode, await output, await error);
    }
}

internal sealed record ScriptRun(int ExitCode, string StandardOutput, string StandardError)
{
    public string Output => StandardOutput + StandardError;
}
