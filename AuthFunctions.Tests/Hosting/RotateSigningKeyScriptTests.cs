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
        int keepCurrent = output.IndexOf($"put_secret auth-signing-key-1 {current}\n", StringComparison.Ordinal);
        int putNew = output.IndexOf($"put_secret auth-signing-key-0 {file}\n", StringComparison.Ordinal);
        Assert.True(keepCurrent > 0 && putNew > keepCurrent, output);
        Assert.Contains("az functionapp restart -g rg-test -n func-test", output, StringComparison.Ordinal);
        Assert.Contains("15 min + 30 s", output, StringComparison.Ordinal);
        // A temporary read grant is at the resource group's scope (the vault's lock would refuse deleting one at the
        // vault), and its removal is checked and shouted about when it did not happen.
        Assert.Contains("--role \"Key Vault Secrets User\" \\\n     --scope $(az group show -n rg-test --query id -o tsv)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Secrets Officer", output, StringComparison.Ordinal);
        Assert.DoesNotContain("az keyvault secret set", output, StringComparison.Ordinal);
        Assert.Contains("IS STILL THERE", output, StringComparison.Ordinal);
    }

    /// <summary>
    /// The printed put_secret writes a key through Resource Manager (no Key Vault role to grant, so none is left behind
    /// by the vault's lock): run here with a stand-in az, the request body it sends holds exactly the PEM, is read from a
    /// file (never the command line) and is deleted afterwards; when az fails, put_secret fails too.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task PrintedPutSecretSendsThePemThroughResourceManagerAndReportsFailure(int azExitCode)
    {
        string file = Path.Combine(_directory, "new.pem");
        var (_, output, _) = await RunAsync("--out", file, "--vault", "kv-test", "--resource-group", "rg-test", "--app", "func-test");
        string bin = Directory.CreateDirectory(Path.Combine(_directory, "bin")).FullName;
        string calls = Path.Combine(_directory, "calls");
        string body = Path.Combine(_directory, "body");
        await File.WriteAllTextAsync(Path.Combine(bin, "az"), $$"""
            #!/usr/bin/env bash
            printf '%s\n' "$*" >>{{calls}}
            while [ $# -gt 0 ]; do [ "$1" = --body ] && cp "${2#@}" {{body}}; shift; done
            exit {{azExitCode}}

            """);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path.Combine(bin, "az"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        int start = output.IndexOf("put_secret() {", StringComparison.Ordinal);
        string definition = output[start..(output.IndexOf("; }\n", start, StringComparison.Ordinal) + 3)];

        var run = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        run.Environment["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH");
        run.ArgumentList.Add("-c");
        run.ArgumentList.Add($"vault_id=/subscriptions/sub/resourceGroups/rg-test/providers/Microsoft.KeyVault/vaults/kv-test\n{definition}\nput_secret auth-signing-key-0 {file}");
        using var process = Process.Start(run)!;
        string errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(azExitCode, process.ExitCode);
        string pem = await File.ReadAllTextAsync(file);
        Assert.Equal(pem, JsonDocument.Parse(await File.ReadAllTextAsync(body)).RootElement.GetProperty("properties").GetProperty("value").GetString());
        string call = await File.ReadAllTextAsync(calls);
        Assert.StartsWith($"rest --method put --url https://management.azure.com/subscriptions/sub/resourceGroups/rg-test/providers/Microsoft.KeyVault/vaults/kv-test/secrets/auth-signing-key-0?api-version=2023-07-01 --body @{file}.json", call, StringComparison.Ordinal);
        Assert.DoesNotContain(pem.Split('\n')[1], call, StringComparison.Ordinal);
        Assert.False(File.Exists(file + ".json"), errors);
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
