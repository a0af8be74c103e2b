using System.Net;
using AuthFunctions.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Tests.Hosting;

/// <summary><c>Mfa__Issuer</c> and <c>Mfa__EncryptionKeys__N</c>: checked at start, named in the failure, and rotatable.</summary>
public sealed class MfaSettingsTests
{
    private static readonly string GoodSigningKey = Convert.ToBase64String(new byte[32].Select((_, i) => (byte)(i * 7 + 1)).ToArray());

    private static async Task<OptionsValidationException?> StartFailureAsync(string environment, IDictionary<string, string?> settings)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = (await AzuriteServer.Shared).ConnectionString,
            ["Auth:SigningKey"] = GoodSigningKey,
        };
        foreach (var (key, value) in settings)
        {
            configuration[key] = value;
        }
        await using var app = ServicesHost.Build(environment, configuration);
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
    }

    [Fact]
    public async Task AMissingKeyStopsProductionNamingTheSetting()
    {
        var failure = await StartFailureAsync("Production", new Dictionary<string, string?> { ["Mfa:EncryptionKeys:0"] = "" });
        Assert.Contains("Mfa__EncryptionKeys__0", failure?.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")] // 31 bytes
    public async Task AnInvalidKeyIsNamedWithoutItsValue(string key)
    {
        var failure = await StartFailureAsync("Production", new Dictionary<string, string?> { ["Mfa:EncryptionKeys:0"] = TestApp.NewMfaKey(), ["Mfa:EncryptionKeys:1"] = key });
        Assert.Contains("Mfa__EncryptionKeys__1 must be base64 of exactly 32 bytes", failure?.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(key, failure!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnIssuerWithAColonIsRefused()
    {
        var failure = await StartFailureAsync("Production", new Dictionary<string, string?> { ["Mfa:Issuer"] = "Acme: Login" });
        Assert.Contains("Mfa__Issuer", failure?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DevelopmentGeneratesAKey()
    {
        Assert.Null(await StartFailureAsync("Development", new Dictionary<string, string?> { ["Mfa:EncryptionKeys:0"] = "" }));
    }

    /// <summary>
    /// A rotation: an instance with the keys [new, old] opens the secrets sealed under the old key, and seals new ones under
    /// the new key; the instance with only the old key cannot open those (a failed check, not a 500).
    /// </summary>
    [Fact]
    public async Task ARotatedKeyStillOpensSecretsSealedUnderTheOldOne()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["Mfa:Issuer"] = "Acme Login" });
        var user = await app.NewMfaUserAsync("mfa-rotate");
        string oldKey = app.Settings["Mfa:EncryptionKeys:0"]!;
        await using var rotated = await app.StartAnotherInstanceAsync(new Dictionary<string, string?>
        {
            ["Mfa:EncryptionKeys:0"] = TestApp.NewMfaKey(),
            ["Mfa:EncryptionKeys:1"] = oldKey,
            ["Mfa:Issuer"] = "Acme Login",
        });
        Assert.Equal(HttpStatusCode.OK, (await rotated.Client.PostAsync("/api/login", System.Net.Http.Json.JsonContent.Create(
            new { email = user.Email, password = TestApp.Password, totp_code = await app.CodeNowAsync(user) }))).StatusCode);

        var (email, tokens) = await rotated.NewUserAsync("mfa-rotate-new");
        var enrol = await ProblemAssert.JsonAsync(await rotated.PostAsync("/api/mfa/totp", tokens.Access), HttpStatusCode.OK);
        var uri = new Uri(enrol.GetProperty("otpauth_uri").GetString()!);
        Assert.Equal("Acme Login", System.Web.HttpUtility.ParseQueryString(uri.Query)["issuer"]);
        Assert.Equal("Acme Login:" + email, Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')));
        string secret = enrol.GetProperty("secret").GetString()!;
        await ProblemAssert.IsProblemAsync(await app.PostAsync("/api/mfa/totp/confirm", tokens.Access,
            new { code = await IndependentTotp.CodeAsync(secret, app.Clock.GetUtcNow()) }), HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, (await rotated.PostAsync("/api/mfa/totp/confirm", tokens.Access,
            new { code = await IndependentTotp.CodeAsync(secret, app.Clock.GetUtcNow()) })).StatusCode);
    }
}
