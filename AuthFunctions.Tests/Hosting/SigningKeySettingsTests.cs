using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using AuthFunctions.Tests.Infrastructure;
using System.Net;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Tests.Hosting;

/// <summary>Auth__SigningKey / Auth__SigningKeys__N and Introspection__Clients__N: what starts, and what stops the app with which message.</summary>
public sealed class SigningKeySettingsTests
{
    private static readonly string Hs256Key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static async Task<ServicesHost> BuildAsync(string environment, IDictionary<string, string?> settings)
    {
        var azurite = await AzuriteServer.Shared;
        var configuration = new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = azurite.ConnectionString,
            ["Storage:TablePrefix"] = "k" + Guid.NewGuid().ToString("N")[..16],
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings)
        {
            configuration[key] = value;
        }
        return ServicesHost.Build(environment, configuration);
    }

    private static async Task<string?> StartFailureAsync(IDictionary<string, string?> settings, string environment = "Production")
    {
        await using var app = await BuildAsync(environment, settings);
        try
        {
            await app.StartAsync();
            await app.StopAsync();
            return null;
        }
        catch (OptionsValidationException ex)
        {
            return string.Join("\n", ex.Failures);
        }
    }

    private static string EcPem(ECCurve curve)
    {
        using var ec = ECDsa.Create(curve);
        return ec.ExportPkcs8PrivateKeyPem();
    }

    [Fact]
    public async Task BothKindsOfKeyStopTheAppWithOneMessageNamingBoth()
    {
        var failure = await StartFailureAsync(new Dictionary<string, string?>
        {
            ["Auth:SigningKey"] = Hs256Key,
            ["Auth:SigningKeys:0"] = TestApp.NewSigningKeyPem(),
        });

        var line = Assert.Single(failure!.Split('\n'));
        Assert.Contains("Auth__SigningKey and Auth__SigningKeys", line, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BadKeys => new()
    {
        { "not a PEM", "hello" },
        { "base64 of an HS256 key", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) },
        { "SEC1 EC PRIVATE KEY", ECDsa.Create(ECCurve.NamedCurves.nistP256).ExportECPrivateKeyPem() },
        { "P-384", EcPem(ECCurve.NamedCurves.nistP384) },
        { "RSA", RSA.Create(2048).ExportPkcs8PrivateKeyPem() },
        { "public key only", ECDsa.Create(ECCurve.NamedCurves.nistP256).ExportSubjectPublicKeyInfoPem() },
        { "corrupt body", "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----" },
        { "unresolved Key Vault reference", "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/auth-signing-key-1/)" },
    };

    [Theory]
    [MemberData(nameof(BadKeys))]
    public async Task AnyKeyThatIsNotAPkcs8P256PrivateKeyStopsTheAppNamingItsIndex(string why, string pem)
    {
        var failure = await StartFailureAsync(new Dictionary<string, string?>
        {
            ["Auth:SigningKeys:0"] = TestApp.NewSigningKeyPem(),
            ["Auth:SigningKeys:1"] = pem,
        });

        Assert.True(failure is not null, why);
        var line = Assert.Single(failure.Split('\n'));
        Assert.StartsWith("Auth__SigningKeys__1 ", line, StringComparison.Ordinal);
        // The message never echoes the value: every line of it (a short one such as "hello" too) is absent.
        var parts = pem.Split('\n').Where(l => l.Length >= 5 && !l.StartsWith("-----", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(parts);
        foreach (var part in parts)
        {
            Assert.DoesNotContain(part, line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task NoKeyAtAllStopsProductionNamingBothSettings()
    {
        var failure = await StartFailureAsync(new Dictionary<string, string?>());

        Assert.Contains("Auth__SigningKeys__0", failure, StringComparison.Ordinal);
        Assert.Contains("Auth__SigningKey ", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Es256KeysStartProduction() =>
        Assert.Null(await StartFailureAsync(new Dictionary<string, string?>
        {
            ["Auth:SigningKeys:0"] = TestApp.NewSigningKeyPem(),
            ["Auth:SigningKeys:1"] = TestApp.NewSigningKeyPem(),
        }));

    [Fact]
    public async Task Hs256KeyAloneStillStartsProduction() =>
        Assert.Null(await StartFailureAsync(new Dictionary<string, string?> { ["Auth:SigningKey"] = Hs256Key }));

    /// <summary>Through the real host in Development with no key settings at all, as <c>scripts/run</c> starts it.</summary>
    [Fact]
    public async Task DevelopmentWithoutKeysGeneratesAnEs256Key()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:SigningKeys:0"] = null,
            ["AZURE_FUNCTIONS_ENVIRONMENT"] = "Development",
            ["DOTNET_ENVIRONMENT"] = "Development",
        });

        var jwks = await app.Client.GetFromJsonAsync<JsonElement>("/api/.well-known/jwks.json");

        var key = Assert.Single(jwks.GetProperty("keys").EnumerateArray());
        Assert.Equal("ES256", key.GetProperty("alg").GetString());
        var (_, tokens) = await app.NewUserAsync();
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/api/protected", tokens.Access)).StatusCode);
    }

    [Fact]
    public async Task EmptyPlaceholdersAsInTheSampleSettingsAreNoKeysAndNoClients()
    {
        // local.settings.sample.json lists Auth__SigningKeys__0/1 and Introspection__Clients__0__Id/__Secret empty.
        var failure = await StartFailureAsync(new Dictionary<string, string?>
        {
            ["Auth:SigningKey"] = Hs256Key,
            ["Auth:SigningKeys:0"] = "",
            ["Auth:SigningKeys:1"] = "",
            ["Introspection:Clients:0:Id"] = "",
            ["Introspection:Clients:0:Secret"] = "",
        });

        Assert.Null(failure);
    }

    public static TheoryData<string, string, string> BadClients => new()
    {
        { "Introspection:Clients:0:Secret", "too-short", "Introspection__Clients__0__Secret" },
        { "Introspection:Clients:0:Id", "", "Introspection__Clients__0__Id" },
        { "Introspection:Clients:1:Id", "orders-api", "Introspection__Clients__1__Id repeats Introspection__Clients__0__Id" },
    };

    [Theory]
    [MemberData(nameof(BadClients))]
    public async Task InvalidIntrospectionClientStopsTheAppNamingTheSetting(string setting, string value, string expected)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Auth:SigningKeys:0"] = TestApp.NewSigningKeyPem(),
            ["Introspection:Clients:0:Id"] = "orders-api",
            ["Introspection:Clients:0:Secret"] = new string('s', 32),
            ["Introspection:Clients:1:Id"] = "billing-api",
            ["Introspection:Clients:1:Secret"] = new string('t', 32),
        };
        settings[setting] = value;

        var failure = await StartFailureAsync(settings);

        Assert.Contains(expected, failure, StringComparison.Ordinal);
        Assert.DoesNotContain(new string('s', 32), failure!, StringComparison.Ordinal);
    }
}
