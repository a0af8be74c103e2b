using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Hosting;

/// <summary>scripts/rotate-signing-key makes a key the app accepts, readable only by its owner, and prints the rotation in a safe order.</summary>
public sealed partial class RotateSigningKeyScriptTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("rotate-key-").FullName;

    private string WorkingDirectory => Directory.CreateDirectory(Path.Combine(_directory, "cwd")).FullName;

    private string TemporaryRoot => Directory.CreateDirectory(Path.Combine(_directory, "tmp")).FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Runs the script in <see cref="_directory"/> (its working directory) with TMPDIR there too, so every file it makes is the test's.</summary>
    private async Task<(int ExitCode, string Output, string Errors)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = WorkingDirectory };
        start.Environment["TMPDIR"] = TemporaryRoot;
        start.ArgumentList.Add(Path.Combine(RepositoryRoot.Path, "scripts", "rotate-signing-key"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        string output = await process.StandardOutput.ReadToEndAsync();
        string errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output, errors);
    }

    [Fact]
    public async Task NewKeyIsPrivateAcceptedByTheAppAndItsKidIsTheOnePrinted()
    {
        string file = Path.Combine(_directory, "new.pem");
        var (exitCode, output, errors) = await RunAsync("--out", file, "--vault", "kv-test", "--resource-group", "rg-test", "--app", "func-test");
        Assert.True(exitCode == 0, errors);

        Assert.True(!OperatingSystem.IsWindows() && File.GetUnixFileMode(file) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), "the key file must be mode 0600");
        string pem = await File.ReadAllTextAsync(file);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", pem, StringComparison.Ordinal);
        foreach (var line in pem.Split('\n').Where(l => l.Length > 0 && !l.StartsWith("-----", StringComparison.Ordinal)))
        {
            Assert.DoesNotContain(line, output, StringComparison.Ordinal);
        }

        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["Auth:SigningKeys:0"] = pem });
        var jwks = await app.Client.GetFromJsonAsync<JsonElement>("/api/.well-known/jwks.json");
        string kid = jwks.GetProperty("keys")[0].GetProperty("kid").GetString()!;
        Assert.Equal(kid, PrintedKid().Match(output).Groups["kid"].Value);
    }

    [Fact]
    public async Task StepsKeepTheCurrentKeySecondBeforePuttingTheNewOneFirst()
    {
        string file = Path.Combine(_directory, "new.pem");
        var (_, output, _) = await RunAsync("--out", file, "--vault", "kv-test", "--resource-group", "rg-test", "--app", "func-test");

        string current = Assert.Single(Directory.GetDirectories(TemporaryRoot)) + "/current.pem";
        int keepCurrent = output.IndexOf($"-n auth-signing-key-1 --file {current}", StringComparison.Ordinal);
        int putNew = output.IndexOf($"-n auth-signing-key-0 --file {file}", StringComparison.Ordinal);
        Assert.True(keepCurrent > 0 && putNew > keepCurrent, output);
        Assert.Contains("az functionapp restart -g rg-test -n func-test", output, StringComparison.Ordinal);
        Assert.Contains("15 min + 30 s", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnExistingKeyFileIsNeverOverwritten()
    {
        string file = Path.Combine(_directory, "existing.pem");
        await File.WriteAllTextAsync(file, "keep me");

        var (exitCode, _, errors) = await RunAsync("--out", file);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("not overwriting", errors, StringComparison.Ordinal);
        Assert.Equal("keep me", await File.ReadAllTextAsync(file));
    }

    /// <summary>
    /// Without --out the key goes into a new folder only its owner can enter, under the temporary directory; nothing is
    /// written where the script runs (a repository, where it could be committed), and git ignores *.pem regardless.
    /// </summary>
    [Fact]
    public async Task ByDefaultTheKeyGoesToAPrivateTemporaryFolderNotTheWorkingDirectory()
    {
        var (exitCode, output, errors) = await RunAsync();
        Assert.True(exitCode == 0, errors);

        string file = PrintedFile().Match(output).Groups["file"].Value;
        string folder = Path.GetDirectoryName(file)!;
        Assert.Equal(TemporaryRoot, Path.GetDirectoryName(folder));
        Assert.True(!OperatingSystem.IsWindows() && File.GetUnixFileMode(folder) == (UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute), "the folder must be mode 0700");
        Assert.True(!OperatingSystem.IsWindows() && File.GetUnixFileMode(file) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), "the key file must be mode 0600");
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(WorkingDirectory));
        Assert.Contains($"shred -u {folder}/current.pem {file}", output, StringComparison.Ordinal);
        Assert.Contains("*.pem", File.ReadAllLines(Path.Combine(RepositoryRoot.Path, ".gitignore")));
    }

    [GeneratedRegex(@"^New ES256 signing key: (?<file>/\S+\.pem) \(mode 0600")]
    private static partial Regex PrintedFile();

    [GeneratedRegex(@"EC P-256\), kid (?<kid>[A-Za-z0-9_-]{43})\.")]
    private static partial Regex PrintedKid();
}
