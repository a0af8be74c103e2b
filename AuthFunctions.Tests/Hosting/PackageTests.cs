using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Hosting;

/// <summary>
/// Builds the deployable package with scripts/package (the worker's publish output, ReadyToRun for linux-x64) and runs
/// it under the real Functions host as Azure would: every function declared in the package's generated metadata is
/// called through the host, and the optimistic-concurrency races run against the packaged binaries.
/// </summary>
public sealed class PackageTests
{
    [Fact]
    public async Task PackagedWorkerServesEveryFunctionUnderTheHost()
    {
        string root = RepositoryRoot.Path;
        string package = Path.Combine(root, "artifacts", "package");
        await RunAsync("bash", [Path.Combine(root, "scripts", "package")], root, TimeSpan.FromMinutes(8));
        Assert.True(File.Exists(Path.Combine(root, "artifacts", "authfunctions.zip")));
        foreach (string generated in new[] { "host.json", "functions.metadata", "worker.config.json", "extensions.json" })
        {
            Assert.True(File.Exists(Path.Combine(package, generated)), $"the package lacks {generated}");
        }
        Assert.DoesNotContain("customHandler", await File.ReadAllTextAsync(Path.Combine(package, "host.json")), StringComparison.Ordinal);
        AssertReadyToRun(Path.Combine(package, "AuthFunctions.dll"));
        AssertRuntimeSettings(Path.Combine(package, "AuthFunctions.runtimeconfig.json"));

        var declared = DeclaredMethods(Path.Combine(package, "functions.metadata"));
        const string introspectionSecret = "package-test-introspection-secret-0123456789";
        await using var app = await TestApp.StartFromAsync(package, new Dictionary<string, string?>
        {
            ["Introspection:Clients:0:Id"] = "package-test",
            ["Introspection:Clients:0:Secret"] = introspectionSecret,
            ["Email:SmtpHost"] = "",
        });
        var client = app.Client;
        var called = new HashSet<string>();
        async Task<HttpResponseMessage> Call(string function, HttpMethod method, string path, string? token = null, object? body = null)
        {
            Assert.Contains(method.Method, declared[function]);
            called.Add(function);
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            if (token is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }
            return await client.SendAsync(request);
        }

        string email = TestApp.UniqueEmail("package");
        Assert.Equal(HttpStatusCode.OK, (await Call("health", HttpMethod.Get, "/api/health")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await Call("register", HttpMethod.Post, "/api/register", body: new { email, password = TestApp.Password })).StatusCode);
        var login = await ProblemAssert.JsonAsync(await Call("login", HttpMethod.Post, "/api/login", body: new { email, password = TestApp.Password }), HttpStatusCode.OK);
        string access = login.GetProperty("access_token").GetString()!;
        var other = await ProblemAssert.JsonAsync(await Call("login", HttpMethod.Post, "/api/login", body: new { email, password = TestApp.Password }), HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, (await Call("protected", HttpMethod.Get, "/api/protected", access)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Call("me", HttpMethod.Get, "/api/me", access)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Call("sessions", HttpMethod.Get, "/api/sessions", access)).StatusCode);
        string otherSid = TokenForge.Payload(other.GetProperty("access_token").GetString()!)["sid"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NoContent, (await Call("session", HttpMethod.Delete, $"/api/sessions/{otherSid}", access)).StatusCode);
        var refreshed = await ProblemAssert.JsonAsync(await Call("refresh", HttpMethod.Post, "/api/refresh", body: new { refresh_token = login.GetProperty("refresh_token").GetString() }), HttpStatusCode.OK);
        access = refreshed.GetProperty("access_token").GetString()!;
        // Optimistic concurrency in the packaged binaries (an untrimmed Azure.Data.Tables keeps its ETags): concurrent
        // changes of one password have exactly one winner, and a concurrent burst of guesses gets exactly
        // Throttle__FreeAttempts (5) checks.
        // The write conflicts show the ETag checks ran and refused the racers that read too early.
        using var conflicts = new WriteConflictRecorder(app);
        called.Add("password");
        var changes = (await Race.RunAsync(Enumerable.Range(0, 6).Select(i => Racer.Post(app.BaseAddress, "/api/password",
            new { current_password = TestApp.Password, new_password = $"packaged walrus {i} rides a bicycle" }, access)))).Responses;
        string statuses = string.Join(", ", changes.Select(r => (int)r.StatusCode));
        Assert.True(changes.Count(r => r.StatusCode == HttpStatusCode.NoContent) == 1, statuses);
        Assert.True(changes.Count(r => r.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.Unauthorized) == 5, statuses);
        Assert.True(conflicts.Count > 0, "the password changes never collided in storage");
        string victim = TestApp.UniqueEmail("burst");
        Assert.Equal(HttpStatusCode.Created, (await Call("register", HttpMethod.Post, "/api/register", body: new { email = victim, password = TestApp.Password })).StatusCode);
        long conflictsBeforeGuesses = conflicts.Count;
        var guesses = (await Race.RunAsync(Enumerable.Range(0, 12).Select(i =>
            Racer.Post(app.BaseAddress, "/api/login", new { email = victim, password = $"guess number {i}" })))).Responses;
        Assert.True(conflicts.Count > conflictsBeforeGuesses, "the guesses never collided in storage");
        Assert.Equal(5, guesses.Count(r => r.StatusCode == HttpStatusCode.Unauthorized));
        Assert.Equal(7, guesses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
        Assert.Equal(HttpStatusCode.OK, (await Call("jwks", HttpMethod.Get, "/api/.well-known/jwks.json")).StatusCode);
        // The account functions answer through the package (no SMTP server is configured here, so nothing is sent).
        Assert.Equal(HttpStatusCode.Accepted, (await Call("email-verify-send", HttpMethod.Post, "/api/email/verify/send", access)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Call("email-verify", HttpMethod.Post, "/api/email/verify", body: new { token = "not-a-link-token" })).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await Call("password-forgot", HttpMethod.Post, "/api/password/forgot", body: new { email })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Call("password-reset", HttpMethod.Post, "/api/password/reset", body: new { token = "not-a-link-token", new_password = "another new password" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Call("me", HttpMethod.Patch, "/api/me", access, new { full_name = "Packaged User" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Call("openapi", HttpMethod.Get, "/api/openapi.json")).StatusCode);
        using (var introspection = new HttpRequestMessage(HttpMethod.Post, "/api/introspect")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = access }),
            Headers = { Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("package-test:" + introspectionSecret))) },
        })
        {
            Assert.Contains("POST", declared["introspect"]);
            called.Add("introspect");
            var active = await ProblemAssert.JsonAsync(await client.SendAsync(introspection), HttpStatusCode.OK);
            Assert.True(active.GetProperty("active").GetBoolean());
        }
        // The second factor through the package: enrol, confirm with a code from oathtool/pyotp, new recovery codes, the
        // two-step login, removal.
        string mfaEmail = TestApp.UniqueEmail("package-mfa");
        Assert.Equal(HttpStatusCode.Created, (await Call("register", HttpMethod.Post, "/api/register", body: new { email = mfaEmail, password = TestApp.Password })).StatusCode);
        string mfaAccess = (await ProblemAssert.JsonAsync(await Call("login", HttpMethod.Post, "/api/login", body: new { email = mfaEmail, password = TestApp.Password }), HttpStatusCode.OK))
            .GetProperty("access_token").GetString()!;
        string secret = (await ProblemAssert.JsonAsync(await Call("mfa-totp", HttpMethod.Post, "/api/mfa/totp", mfaAccess), HttpStatusCode.OK)).GetProperty("secret").GetString()!;
        var confirmed = await ProblemAssert.JsonAsync(await Call("mfa-totp-confirm", HttpMethod.Post, "/api/mfa/totp/confirm", mfaAccess,
            new { code = await IndependentTotp.CodeAsync(secret, DateTimeOffset.UtcNow) }), HttpStatusCode.OK);
        var renewed = await ProblemAssert.JsonAsync(await Call("mfa-recovery-codes", HttpMethod.Post, "/api/mfa/recovery-codes", mfaAccess,
            new { recovery_code = confirmed.GetProperty("recovery_codes")[0].GetString() }), HttpStatusCode.OK);
        string[] recovery = [.. renewed.GetProperty("recovery_codes").EnumerateArray().Select(code => code.GetString()!)];
        var required = await ProblemAssert.IsProblemAsync(await Call("login", HttpMethod.Post, "/api/login", body: new { email = mfaEmail, password = TestApp.Password }), HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.OK, (await Call("login-mfa", HttpMethod.Post, "/api/login/mfa",
            body: new { mfa_token = required.GetProperty("mfa_token").GetString(), recovery_code = recovery[0] })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Call("mfa-totp", HttpMethod.Delete, "/api/mfa/totp", mfaAccess, new { password = TestApp.Password, recovery_code = recovery[1] })).StatusCode);
        // Passkeys and federated sign-in are off without their settings: each of their functions answers 404 through the package.
        foreach (var (function, method, path) in new[]
        {
            ("passkeys-register-options", HttpMethod.Post, "/api/passkeys/register/options"), ("passkeys-register", HttpMethod.Post, "/api/passkeys/register"),
            ("passkeys", HttpMethod.Get, "/api/passkeys"), ("passkeys", HttpMethod.Delete, "/api/passkeys/abc"),
            ("passkeys-login-options", HttpMethod.Post, "/api/passkeys/login/options"), ("passkeys-login", HttpMethod.Post, "/api/passkeys/login"),
            ("oidc-start", HttpMethod.Get, "/api/oidc/test/start"), ("oidc-callback", HttpMethod.Get, "/api/oidc/test/callback"),
            ("oidc-exchange", HttpMethod.Post, "/api/oidc/exchange"), ("oidc-link-ticket", HttpMethod.Post, "/api/oidc/link-ticket"),
            ("oidc-link", HttpMethod.Get, "/api/oidc/test/link"), ("oidc-unlink", HttpMethod.Delete, "/api/me/identities/test"),
        })
        {
            var off = await Call(function, method, path, access, method == HttpMethod.Get ? null : new { });
            Assert.True(off.StatusCode == HttpStatusCode.NotFound, $"{function}: {(int)off.StatusCode}");
        }
        Assert.Equal(HttpStatusCode.NoContent, (await Call("logout", HttpMethod.Post, "/api/logout", access)).StatusCode);
        await ProblemAssert.IsInvalidTokenAsync(await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/protected") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", access) } }));

        Assert.Equal(declared.Keys.Where(name => declared[name].Count > 0).Order(), called.Order());
    }

    private static Dictionary<string, HashSet<string>> DeclaredMethods(string metadataPath)
    {
        using var metadata = JsonDocument.Parse(File.ReadAllText(metadataPath));
        return metadata.RootElement.EnumerateArray().ToDictionary(
            f => f.GetProperty("name").GetString()!,
            f => f.GetProperty("bindings").EnumerateArray().Where(b => b.TryGetProperty("methods", out _))
                .SelectMany(b => b.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant())).ToHashSet());
    }

    /// <summary>ReadyToRun code is in the worker assembly (Microsoft's guidance for isolated cold start): its PE header says so.</summary>
    private static void AssertReadyToRun(string assemblyPath)
    {
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new System.Reflection.PortableExecutable.PEReader(stream);
        Assert.NotNull(pe.PEHeaders.CorHeader?.ManagedNativeHeaderDirectory);
        Assert.True(pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0, $"{assemblyPath} has no ReadyToRun code");
    }

    /// <summary>The runtime settings the benchmark figures were measured with ship in the package (a misspelt MSBuild property once lost one silently).</summary>
    private static void AssertRuntimeSettings(string runtimeConfigPath)
    {
        using var runtimeConfig = JsonDocument.Parse(File.ReadAllText(runtimeConfigPath));
        var settings = runtimeConfig.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.False(settings.GetProperty("System.GC.Server").GetBoolean());
        Assert.True(settings.GetProperty("System.GC.Concurrent").GetBoolean());
        Assert.False(settings.GetProperty("System.Runtime.TieredPGO").GetBoolean());
        Assert.Equal(0, settings.GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
        Assert.Equal(2 * 1024 * 1024, settings.GetProperty("System.GC.Gen0MaxBudget").GetInt32());
    }

    private static async Task RunAsync(string file, string[] arguments, string directory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cancel.Token);
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', arguments)} failed: {await output}\n{await errors}");
    }
}
