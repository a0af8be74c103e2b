using System.Diagnostics;
using System.Text.RegularExpressions;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

/// <summary>The README's curl session works as written.</summary>
public sealed partial class ReadmeTests(AppFixture fixture) : AppTestBase(fixture)
{
    [Fact]
    public async Task CurlSessionRunsAsWritten()
    {
        string readme = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot.Path, "README.md"));
        string script = CurlSession().Match(readme).Groups["script"].Value;
        Assert.False(string.IsNullOrWhiteSpace(script), "README.md has no '# curl-session' block");

        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-euo");
        start.ArgumentList.Add("pipefail");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        start.Environment["API"] = new Uri(App.BaseAddress, "/api").ToString();
        using var process = Process.Start(start)!;
        string output = await process.StandardOutput.ReadToEndAsync();
        string errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {errors}\n{output}");
        Assert.Contains("\"full_name\":\"Ada Lovelace\"", output, StringComparison.Ordinal);
        Assert.Contains("Welcome, ada-", output, StringComparison.Ordinal);
        Assert.Contains("\"last_login_at\":", output, StringComparison.Ordinal);
        Assert.Contains("logout: 204", output, StringComparison.Ordinal);
        Assert.Contains("after logout: 401", output, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"```bash\n# curl-session\n(?<script>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CurlSession();
}
