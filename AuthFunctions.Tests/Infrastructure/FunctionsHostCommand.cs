using System.Diagnostics;
using System.Globalization;

namespace AuthFunctions.HostLaunch;

/// <summary>Which real Functions host this machine has.</summary>
internal enum FunctionsHostKind
{
    /// <summary>Azure Functions Core Tools 4 (<c>func</c> on PATH): <c>func start --port</c> in the app's folder.</summary>
    CoreTools,

    /// <summary>The host built from source in ../shared/functions-host, unpacked into artifacts/functions-host.</summary>
    SharedHost,
}

/// <summary>
/// How to start the real Azure Functions host over an isolated-worker app's output folder: Core Tools' <c>func</c> where it
/// is on PATH, else the host build in <c>../shared/functions-host</c>, installed once into <c>artifacts/functions-host</c>
/// (where scripts/setup also puts it; its install script checks the archive's sha256 and skips a current copy). One file,
/// compiled into the tests and the benchmarks, so both start the host the same way.
/// </summary>
internal sealed class FunctionsHostCommand
{
    private static readonly SemaphoreSlim InstallLock = new(1, 1);

    private FunctionsHostCommand(FunctionsHostKind kind, string executable)
    {
        Kind = kind;
        Executable = executable;
    }

    public FunctionsHostKind Kind { get; }

    /// <summary><c>func</c>, or the shared host's <c>fh-start.sh</c>.</summary>
    public string Executable { get; }

    public string Label => Kind == FunctionsHostKind.CoreTools ? "core-tools" : "shared-host";

    /// <summary>The host this machine has; installs the shared build when it is not unpacked yet; throws, saying what is missing, when there is none.</summary>
    public static async Task<FunctionsHostCommand> LocateAsync(string repositoryRoot)
    {
        string? func = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, "func")).FirstOrDefault(File.Exists);
        if (func is not null)
        {
            return new FunctionsHostCommand(FunctionsHostKind.CoreTools, func);
        }
        string target = Path.Combine(repositoryRoot, "artifacts", "functions-host");
        string script = Path.Combine(target, "functions-host", "fh-start.sh");
        await InstallLock.WaitAsync();
        try
        {
            if (!File.Exists(script))
            {
                await InstallAsync(repositoryRoot, target);
            }
        }
        finally
        {
            InstallLock.Release();
        }
        return new FunctionsHostCommand(FunctionsHostKind.SharedHost, script);
    }

    private static async Task InstallAsync(string repositoryRoot, string target)
    {
        string installer = Path.GetFullPath(Path.Combine(repositoryRoot, "..", "shared", "functions-host", "install"));
        if (!File.Exists(installer))
        {
            throw new InvalidOperationException(
                $"No Functions host: install Azure Functions Core Tools 4 (func), or place the host build at {installer} (scripts/setup unpacks it).");
        }
        var start = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(installer);
        start.ArgumentList.Add(target);
        using var install = Process.Start(start)!;
        var error = install.StandardError.ReadToEndAsync();
        string output = await install.StandardOutput.ReadToEndAsync();
        await install.WaitForExitAsync();
        if (install.ExitCode != 0)
        {
            throw new InvalidOperationException($"{installer} {target} failed (exit {install.ExitCode}): {output}{await error}");
        }
    }

    /// <summary>
    /// The host over <paramref name="appFolder"/> (the worker's build or publish output) on <paramref name="port"/>, with its
    /// own state folder (the shared host's file-based secrets and logs); the caller adds the app settings. The process
    /// started from it is the host itself (fh-start.sh execs it), so it can be ended by its id.
    /// </summary>
    public ProcessStartInfo StartInfo(string appFolder, int port, string stateDirectory)
    {
        string portText = port.ToString(CultureInfo.InvariantCulture);
        var start = Kind == FunctionsHostKind.CoreTools
            ? new ProcessStartInfo(Executable, ["start", "--port", portText]) { WorkingDirectory = appFolder }
            : new ProcessStartInfo("bash", [Executable, appFolder, portText]);
        start.UseShellExecute = false;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        // Core Tools read these from the environment when the folder has no local.settings.json.
        start.Environment["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated";
        start.Environment["FH_STATE"] = stateDirectory;
        return start;
    }
}
