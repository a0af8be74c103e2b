using AuthFunctions.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Tests.Hosting;

public sealed class SettingsTests
{
    internal static async Task<Exception?> StartFailureAsync(string environment, IDictionary<string, string?> settings)
    {
        var azurite = await AzuriteServer.Shared;
        var configuration = new Dictionary<string, string?> { ["Storage:ConnectionString"] = azurite.ConnectionString };
        foreach (var (key, value) in settings)
        {
            configuration[key] = value;
        }
        var app = ServicesHost.Build(environment, configuration);
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

    private static readonly string GoodKey = Convert.ToBase64String(new byte[32].Select((_, i) => (byte)(i * 7 + 1)).ToArray());

    [Fact]
    public async Task MissingSigningKeyStopsProduction()
    {
        var failure = await StartFailureAsync("Production", new Dictionary<string, string?>());
        Assert.Contains("Auth__SigningKey", failure?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ShortSigningKeyStopsProduction()
    {
        var failure = await StartFailureAsync("Production", new Dictionary<string, string?> { ["Auth:SigningKey"] = Convert.ToBase64String(new byte[31]) });
        Assert.Contains("at least 32 bytes", failure?.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(new byte[31]), failure!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LowBcryptCostStopsProduction()
    {
        var failure = await StartFailureAsync("Production", new Dictionary<string, string?> { ["Auth:SigningKey"] = GoodKey, ["Auth:BcryptCost"] = "9" });
        Assert.Contains("Auth__BcryptCost", failure?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingStorageIsNamed()
    {
        var failure = await StartFailureAsync("Production", new Dictionary<string, string?> { ["Auth:SigningKey"] = GoodKey, ["Storage:ConnectionString"] = "" });
        Assert.Contains("Storage__ConnectionString", failure?.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Email:From", "", "Email__From")]
    [InlineData("Email:LinkBaseUrl", "not a url", "Email__LinkBaseUrl")]
    [InlineData("Email:SmtpPort", "0", "Email__SmtpPort")]
    [InlineData("Email:TimeoutSeconds", "0", "Email__TimeoutSeconds")]
    [InlineData("Email:ResetLinkMinutes", "1", "Email__ResetLinkMinutes")]
    [InlineData("Auth:SessionMaxDays", "0", "Auth__SessionMaxDays")]
    public async Task InvalidEmailAndSessionSettingsAreNamed(string key, string value, string named)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Auth:SigningKey"] = GoodKey,
            ["Email:SmtpHost"] = "smtp.example.com",
            ["Email:From"] = "AuthFunctions <no-reply@example.com>",
            ["Email:LinkBaseUrl"] = "https://app.example.com/",
            [key] = value,
        };
        var failure = await StartFailureAsync("Production", settings);
        Assert.Contains(named, failure?.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Auth:RevocationMode", "cache", "Auth__RevocationMode")]
    [InlineData("Auth:RevocationPollMilliseconds", "50", "Auth__RevocationPollMilliseconds")]
    [InlineData("Auth:RevocationPollMilliseconds", "60001", "Auth__RevocationPollMilliseconds")]
    [InlineData("Auth:RevocationMaxEntries", "0", "Auth__RevocationMaxEntries")]
    [InlineData("Auth:RevocationMaxEntries", "1000001", "Auth__RevocationMaxEntries")]
    public async Task InvalidRevocationSettingsAreNamed(string setting, string value, string named)
    {
        var failure = await StartFailureAsync("Production", new Dictionary<string, string?> { ["Auth:SigningKey"] = GoodKey, [setting] = value });
        Assert.Contains(named, failure?.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Backup:Container", "Table_Backups", "Backup__Container")]
    [InlineData("Backup:Container", "ab", "Backup__Container")]
    [InlineData("Backup:BlobEndpoint", "not a uri", "Backup__BlobEndpoint must be an absolute URI")]
    public async Task InvalidBackupSettingsAreNamed(string setting, string value, string named)
    {
        var failure = await StartFailureAsync("Production", new Dictionary<string, string?> { ["Auth:SigningKey"] = GoodKey, [setting] = value });
        Assert.Contains(named, failure?.Message, StringComparison.Ordinal);
    }

    /// <summary>On Azure (no connection string, Entra ID to the table endpoint) the exports need their Blob endpoint.</summary>
    [Fact]
    public async Task ManagedIdentityStorageWithoutABackupBlobEndpointStopsTheApp()
    {
        var failure = await StartFailureAsync("Production", new Dictionary<string, string?>
        {
            ["Auth:SigningKey"] = GoodKey,
            ["Storage:ConnectionString"] = "",
            ["Storage:TableEndpoint"] = "https://account.table.core.windows.net",
        });
        Assert.Contains("Set Backup__BlobEndpoint", failure?.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// App Service hands on a Key Vault reference it could not resolve as its literal text, which names the vault and
    /// passes a length check; as an introspection secret it would be guessable, so it stops the app instead.
    /// </summary>
    [Fact]
    public async Task AnUnresolvedKeyVaultReferenceAsAnIntrospectionSecretStopsTheApp()
    {
        const string reference = "@Microsoft.KeyVault(SecretUri=https://kv-example.vault.azure.net/secrets/introspection-client-0/)";
        var failure = await StartFailureAsync("Production", new Dictionary<string, string?>
        {
            ["Auth:SigningKey"] = GoodKey,
            ["Introspection:Clients:0:Id"] = "orders-api",
            ["Introspection:Clients:0:Secret"] = reference,
        });
        Assert.Contains("Introspection__Clients__0__Secret is a Key Vault reference that App Service could not resolve", failure?.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("kv-example", failure!.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("5")]
    public async Task AMinimumPasswordStrengthOutsideTheScoresIsNamed(string value)
    {
        var failure = await StartFailureAsync("Production", new Dictionary<string, string?> { ["Auth:SigningKey"] = GoodKey, ["Passwords:MinimumStrength"] = value });
        Assert.Contains("Passwords__MinimumStrength", failure?.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("4")]
    public async Task EveryScoreIsAMinimumPasswordStrength(string value) =>
        Assert.Null(await StartFailureAsync("Production", new Dictionary<string, string?> { ["Auth:SigningKey"] = GoodKey, ["Passwords:MinimumStrength"] = value }));

    [Fact]
    public async Task RequiringVerifiedEmailWithoutAnSmtpServerStopsTheApp()
    {
        var failure = await StartFailureAsync("Production", new Dictionary<string, string?> { ["Auth:SigningKey"] = GoodKey, ["Auth:RequireVerifiedEmail"] = "true" });
        Assert.Contains("Auth__RequireVerifiedEmail needs Email__SmtpHost", failure?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmailSettingsForAProviderStart() =>
        Assert.Null(await StartFailureAsync("Production", new Dictionary<string, string?>
        {
            ["Auth:SigningKey"] = GoodKey,
            ["Email:SmtpHost"] = "smtp.example.com",
            ["Email:SmtpUser"] = "apikey",
            ["Email:SmtpPassword"] = "secret",
            ["Email:From"] = "AuthFunctions <no-reply@example.com>",
            ["Email:LinkBaseUrl"] = "https://app.example.com/",
        }));

    [Fact]
    public async Task ReadModeAndAShortPollStart() =>
        Assert.Null(await StartFailureAsync("Production", new Dictionary<string, string?>
        {
            ["Auth:SigningKey"] = GoodKey,
            ["Auth:RevocationMode"] = "read",
            ["Auth:RevocationPollMilliseconds"] = "100",
        }));

    [Fact]
    public async Task DevelopmentGeneratesAKeyAndStarts() =>
        Assert.Null(await StartFailureAsync("Development", new Dictionary<string, string?>()));

    [Fact]
    public async Task ValidProductionSettingsStart() =>
        Assert.Null(await StartFailureAsync("Production", new Dictionary<string, string?> { ["Auth:SigningKey"] = GoodKey }));
}
