using System.Text.Json;
using AuthFunctions.Http;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Hosting;

/// <summary>
/// The host routes only what the Worker SDK's generated <c>functions.metadata</c> declares: the contract's functions,
/// names, routes and methods exactly; and which of them the access-token middleware guards, so none forgets it silently.
/// </summary>
public sealed class FunctionMetadataTests
{
    internal static IEnumerable<(string Name, string Method, string Route)> DeclaredFunctions()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(FunctionsHost.WorkerOutput, "functions.metadata")));
        foreach (var function in document.RootElement.EnumerateArray())
        {
            var trigger = function.GetProperty("bindings").EnumerateArray().First(b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));
            if (trigger.GetProperty("type").GetString() != "httpTrigger")
            {
                continue;
            }
            foreach (var method in trigger.GetProperty("methods").EnumerateArray())
            {
                yield return (function.GetProperty("name").GetString()!, method.GetString()!.ToUpperInvariant(), trigger.GetProperty("route").GetString()!);
            }
        }
    }

    [Fact]
    public void TheContractsFunctionsAreDeclaredWithTheirRoutesAndMethods()
    {
        var declared = DeclaredFunctions().Where(f => f.Method != "OPTIONS").Select(f => $"{f.Name} {f.Method} {f.Route}").Order().ToList();

        Assert.Equal(
        [
            "email-verify POST email/verify", "email-verify-send POST email/verify/send", "health GET health", "health HEAD health",
            "introspect POST introspect", "jwks GET .well-known/jwks.json", "login POST login", "login-mfa POST login/mfa", "logout POST logout",
            "me DELETE me", "me GET me", "me PATCH me",
            "mfa-recovery-codes POST mfa/recovery-codes", "mfa-totp DELETE mfa/totp", "mfa-totp POST mfa/totp", "mfa-totp-confirm POST mfa/totp/confirm",
            "oidc-callback GET oidc/{provider}/callback", "oidc-exchange POST oidc/exchange", "oidc-link GET oidc/{provider}/link",
            "oidc-link-ticket POST oidc/link-ticket", "oidc-start GET oidc/{provider}/start", "oidc-unlink DELETE me/identities/{provider}",
            "openapi GET openapi.json",
            "passkeys DELETE passkeys/{id?}", "passkeys GET passkeys/{id?}", "passkeys-login POST passkeys/login", "passkeys-login-options POST passkeys/login/options",
            "passkeys-register POST passkeys/register", "passkeys-register-options POST passkeys/register/options",
            "password POST password",
            "password-forgot POST password/forgot", "password-reset POST password/reset", "protected GET protected",
            "refresh POST refresh", "register POST register", "session DELETE sessions/{id}", "sessions GET sessions",
        ], declared);
    }

    /// <summary>Every function declares OPTIONS, so the host routes a browser's preflight to the worker's CORS middleware.</summary>
    [Fact]
    public void EveryHttpFunctionDeclaresOptionsForPreflights()
    {
        var names = DeclaredFunctions().Select(f => f.Name).Distinct();
        Assert.All(names, name => Assert.Contains((name, "OPTIONS"), DeclaredFunctions().Select(f => (f.Name, f.Method))));
    }

    [Theory]
    [InlineData("cleanup", "%Cleanup:Schedule%")]
    [InlineData("backup", "%Backup:Schedule%")]
    public void TimersRunOnTheirScheduleSetting(string function, string schedule)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(FunctionsHost.WorkerOutput, "functions.metadata")));
        var timer = document.RootElement.EnumerateArray().Single(f => f.GetProperty("name").GetString() == function);
        var trigger = timer.GetProperty("bindings").EnumerateArray().Single();

        Assert.Equal("timerTrigger", trigger.GetProperty("type").GetString());
        Assert.Equal(schedule, trigger.GetProperty("schedule").GetString());
        Assert.False(trigger.TryGetProperty("runOnStartup", out var onStartup) && onStartup.GetBoolean());
    }

    [Fact]
    public void TheTimersAreExactlyCleanupAndBackup()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(FunctionsHost.WorkerOutput, "functions.metadata")));
        var timers = document.RootElement.EnumerateArray()
            .Where(f => f.GetProperty("bindings").EnumerateArray().Any(b => b.GetProperty("type").GetString() == "timerTrigger"))
            .Select(f => f.GetProperty("name").GetString());
        Assert.Equal(["backup", "cleanup"], timers.Order(StringComparer.Ordinal));
    }

    /// <summary>The access-token middleware runs exactly on these (selected by the attribute); a new function is unprotected only by choice.</summary>
    [Fact]
    public void ExactlyTheseFunctionsRequireAnAccessToken()
    {
        var catalog = FunctionCatalog.FromAssembly(typeof(FunctionCatalog).Assembly);
        Assert.Equal(DeclaredFunctions().Select(f => f.Name).Distinct().Order(), catalog.All.Select(f => f.Name).Order());

        Assert.Equal(["email-verify-send", "logout", "me", "mfa-recovery-codes", "mfa-totp", "mfa-totp-confirm", "oidc-link-ticket", "oidc-unlink", "passkeys", "passkeys-register",
            "passkeys-register-options", "password", "protected", "session", "sessions"],
            catalog.All.Where(f => f.RequiresAccessToken).Select(f => f.Name).Order());
    }

    /// <summary>The middleware finds an invocation's function from its entry point alone: the same function as the whole catalog's, for every function the SDK lists.</summary>
    [Fact]
    public void EachEntryPointResolvesToTheCatalogsFunction()
    {
        var assembly = typeof(FunctionCatalog).Assembly;
        var catalog = FunctionCatalog.FromAssembly(assembly);
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(FunctionsHost.WorkerOutput, "functions.metadata")));
        var listed = document.RootElement.EnumerateArray().Select(f => (Name: f.GetProperty("name").GetString()!, EntryPoint: f.GetProperty("entryPoint").GetString())).ToList();
        Assert.NotEmpty(listed);
        foreach (var (name, entryPoint) in listed)
        {
            var expected = catalog.Find(name);
            var resolved = FunctionCatalog.Resolve(assembly, name, entryPoint);
            Assert.Equal(expected?.Method, resolved?.Method);
            Assert.Equal(expected?.Route, resolved?.Route);
            Assert.Equal(expected?.Methods ?? [], resolved?.Methods ?? []);
            Assert.Equal(expected?.RequiresAccessToken, resolved?.RequiresAccessToken);
            Assert.Equal(expected?.RateLimit?.Multiple, resolved?.RateLimit?.Multiple);
            Assert.Equal(expected?.PublicCache?.CacheControl, resolved?.PublicCache?.CacheControl);
        }
        Assert.Equal(catalog.All.Select(f => f.Name).Order(), listed.Where(f => FunctionCatalog.Resolve(assembly, f.Name, f.EntryPoint) is not null).Select(f => f.Name).Order());
        Assert.Null(FunctionCatalog.Resolve(assembly, "protected", "AuthFunctions.NoSuchType.Welcome"));
        Assert.Null(FunctionCatalog.Resolve(assembly, "protected", null));
    }

    [Fact]
    public void TheRepositoryHasNoHandWrittenFunctionJson()
    {
        var written = Directory.GetFiles(RepositoryRoot.Path, "function.json", SearchOption.AllDirectories)
            .Where(f => !f.Contains("node_modules", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal) &&
                        !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/artifacts/", StringComparison.Ordinal));
        Assert.Empty(written);
    }
}
