using System.Security.Cryptography;
using AuthFunctions.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Tests.Hosting;

/// <summary>Invalid <c>Oidc__…</c> settings stop the app at start with a message naming the setting; placeholders are no provider.</summary>
public sealed class OidcSettingsTests
{
    private static Dictionary<string, string?> Valid() => new()
    {
        ["Oidc:Providers:0:Name"] = "entra",
        ["Oidc:Providers:0:Authority"] = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0",
        ["Oidc:Providers:0:ClientId"] = "11111111-1111-1111-1111-111111111111",
        ["Oidc:Providers:0:ClientSecret"] = "a client secret",
        ["Oidc:ReturnUrls"] = "https://www.example.com/,https://www.example.com/account/",
        ["Oidc:CallbackBaseUrl"] = "https://auth.example.com",
    };

    private static async Task<Exception?> StartFailureAsync(IDictionary<string, string?> settings)
    {
        var configuration = new Dictionary<string, string?> { ["Storage:ConnectionString"] = (await AzuriteServer.Shared).ConnectionString };
        foreach (var (key, value) in settings)
        {
            configuration[key] = value;
        }
        var app = ServicesHost.Build("Development", configuration);
        try
        {
            await app.StartAsync();
            await app.StopAsync();
            return null;
        }
        catch (OptionsValidationException ex)
        {
            return ex;
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("Oidc:Providers:0:Name", "Entra", "Oidc__Providers__0__Name")]
    [InlineData("Oidc:Providers:0:Name", "", "Oidc__Providers__0__Name")]
    [InlineData("Oidc:Providers:0:Authority", "http://login.example.com", "Oidc__Providers__0__Authority")]
    [InlineData("Oidc:Providers:0:Authority", "not a url", "Oidc__Providers__0__Authority")]
    [InlineData("Oidc:Providers:0:ClientId", "", "Oidc__Providers__0__ClientId")]
    [InlineData("Oidc:Providers:0:ClientSecret", "", "Oidc__Providers__0__ClientSecret")]
    [InlineData("Oidc:Providers:0:Scopes", "email profile", "Oidc__Providers__0__Scopes")]
    [InlineData("Oidc:ReturnUrls", "", "Oidc__ReturnUrls")]
    [InlineData("Oidc:ReturnUrls", "https://www.example.com/#top", "Oidc__ReturnUrls")]
    [InlineData("Oidc:ReturnUrls", "http://www.example.com/", "Oidc__ReturnUrls")]
    [InlineData("Oidc:CallbackBaseUrl", "", "Oidc__CallbackBaseUrl")]
    [InlineData("Oidc:CallbackBaseUrl", "http://auth.example.com", "Oidc__CallbackBaseUrl")]
    [InlineData("Oidc:ProviderTimeoutSeconds", "0", "Oidc__ProviderTimeoutSeconds")]
    public async Task AnInvalidSettingStopsTheAppAndIsNamed(string setting, string value, string named)
    {
        var settings = Valid();
        settings[setting] = value;

        var failure = await StartFailureAsync(settings);

        Assert.Contains(named, failure?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoProvidersWithOneNameStopTheApp()
    {
        var settings = Valid();
        foreach (var (key, value) in Valid().Where(s => s.Key.StartsWith("Oidc:Providers:0:", StringComparison.Ordinal)))
        {
            settings[key.Replace(":0:", ":1:", StringComparison.Ordinal)] = value;
        }

        Assert.Contains("Oidc__Providers__1__Name repeats Oidc__Providers__0__Name", (await StartFailureAsync(settings))?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnresolvedKeyVaultReferenceAsAClientSecretStopsTheApp()
    {
        var settings = Valid();
        settings["Oidc:Providers:0:ClientSecret"] = "@Microsoft.KeyVault(SecretUri=https://kv-example.vault.azure.net/secrets/oidc-client-secret-0/)";

        var failure = await StartFailureAsync(settings);

        Assert.Contains("Oidc__Providers__0__ClientSecret is a Key Vault reference", failure?.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("kv-example", failure!.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> WithClientAssertionKey(string pem)
    {
        var settings = Valid();
        settings["Oidc:Providers:0:ClientSecret"] = "";
        settings["Oidc:Providers:0:ClientAssertionKey"] = pem;
        return settings;
    }

    /// <summary>The base64 lines of a PEM (or the whole value when it has none): what a failure message must never quote.</summary>
    private static IEnumerable<string> Contents(string pem) =>
        pem.Split('\n').Where(line => line.Length >= 16 && !line.StartsWith("-----", StringComparison.Ordinal));

    private static string UnusablePem(string kind)
    {
        using var rsa1024 = RSA.Create(1024);
        using var rsa = RSA.Create(2048);
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var otherCertificate = ClientAssertionKeys.SelfSigned(other);
        return kind switch
        {
            "not-pem" => "not a key: " + Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)),
            "pkcs1" => rsa.ExportRSAPrivateKeyPem(),
            "encrypted" => rsa.ExportEncryptedPkcs8PrivateKeyPem("a passphrase", new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 1000)),
            "rsa-1024" => rsa1024.ExportPkcs8PrivateKeyPem(),
            "ec-p384" => p384.ExportPkcs8PrivateKeyPem(),
            "two-keys" => ec.ExportPkcs8PrivateKeyPem() + "\n" + other.ExportPkcs8PrivateKeyPem(),
            "another-keys-certificate" => ec.ExportPkcs8PrivateKeyPem() + "\n" + otherCertificate.ExportCertificatePem(),
            "certificate-only" => otherCertificate.ExportCertificatePem(),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    [Theory]
    [InlineData("not-pem")]
    [InlineData("pkcs1")]
    [InlineData("encrypted")]
    [InlineData("rsa-1024")]
    [InlineData("ec-p384")]
    [InlineData("two-keys")]
    [InlineData("another-keys-certificate")]
    [InlineData("certificate-only")]
    public async Task AnUnusableClientAssertionKeyStopsTheAppNamedAndNeverQuoted(string kind)
    {
        string pem = UnusablePem(kind);

        var failure = await StartFailureAsync(WithClientAssertionKey(pem));

        Assert.Contains("Oidc__Providers__0__ClientAssertionKey ", failure?.Message, StringComparison.Ordinal);
        Assert.All(Contents(pem), line => Assert.DoesNotContain(line, failure!.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AClientSecretWithAClientAssertionKeyOrNeitherStopsTheApp()
    {
        string pem = TestApp.NewSigningKeyPem();
        var both = Valid();
        both["Oidc:Providers:0:ClientAssertionKey"] = pem;
        var neither = Valid();
        neither["Oidc:Providers:0:ClientSecret"] = "";

        var bothFailure = await StartFailureAsync(both);
        var neitherFailure = await StartFailureAsync(neither);

        Assert.Contains("Oidc__Providers__0__ClientSecret and Oidc__Providers__0__ClientAssertionKey are both set", bothFailure?.Message, StringComparison.Ordinal);
        Assert.All(Contents(pem), line => Assert.DoesNotContain(line, bothFailure!.Message, StringComparison.Ordinal));
        Assert.DoesNotContain("a client secret", bothFailure!.Message, StringComparison.Ordinal);
        Assert.Contains("Oidc__Providers__0__ClientSecret is required", neitherFailure?.Message, StringComparison.Ordinal);
        Assert.Contains("or Oidc__Providers__0__ClientAssertionKey", neitherFailure!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnresolvedKeyVaultReferenceAsAClientAssertionKeyStopsTheApp()
    {
        var failure = await StartFailureAsync(WithClientAssertionKey("@Microsoft.KeyVault(SecretUri=https://kv-example.vault.azure.net/secrets/oidc-client-assertion-key-0/)"));

        Assert.Contains("Oidc__Providers__0__ClientAssertionKey is a Key Vault reference", failure?.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("kv-example", failure!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnRsaKeyWithItsCertificateOrAnEcKeyAloneStarts()
    {
        using var keys = new ClientAssertionKeys();

        Assert.Null(await StartFailureAsync(WithClientAssertionKey(keys.Rsa.ExportPkcs8PrivateKeyPem() + "\n" + keys.Certificate.ExportCertificatePem())));
        Assert.Null(await StartFailureAsync(WithClientAssertionKey(keys.CertifiedRsaPem)));
        Assert.Null(await StartFailureAsync(WithClientAssertionKey(keys.EcPem)));
    }

    [Fact]
    public async Task ValidSettingsAndTheSamplesEmptyPlaceholdersStart()
    {
        Assert.Null(await StartFailureAsync(Valid()));
        Assert.Null(await StartFailureAsync(new Dictionary<string, string?>
        {
            ["Oidc:Providers:0:Name"] = "",
            ["Oidc:Providers:0:Authority"] = "",
            ["Oidc:Providers:0:ClientId"] = "",
            ["Oidc:Providers:0:ClientSecret"] = "",
            ["Oidc:Providers:0:ClientAssertionKey"] = "",
            ["Oidc:Providers:0:Scopes"] = "",
            ["Oidc:ReturnUrls"] = "http://localhost:8080/",
            ["Oidc:CallbackBaseUrl"] = "http://localhost:7071",
        }));
    }
}
