using System.Net;
using AuthFunctions.Tests.Infrastructure;
using static AuthFunctions.Tests.Infrastructure.PasskeyCeremonies;

namespace AuthFunctions.Tests.Hosting;

/// <summary>Passkeys__*: off without them (404, said at start), a start-up error naming the setting when they cannot work, and the account's state obeyed.</summary>
public sealed class PasskeySettingsTests
{
    private static readonly string GoodKey = Convert.ToBase64String(new byte[32].Select((_, i) => (byte)(i * 7 + 1)).ToArray());

    [Theory]
    [InlineData("example.com", "https://www.example.net", "Passkeys__Origins: the host of 'https://www.example.net'")]
    [InlineData("example.com", "http://www.example.com", "must be https")]
    [InlineData("example.com", "https://www.example.com/login", "is not an origin")]
    [InlineData("example.com", "", "Passkeys__Origins must list")]
    [InlineData("", "https://www.example.com", "Passkeys__RelyingPartyId must be a domain name")]
    [InlineData("127.0.0.1", "http://127.0.0.1:8080", "Passkeys__RelyingPartyId must be a domain name")]
    public async Task SettingsThatCannotWorkStopTheAppNamingTheSetting(string rpId, string origins, string named)
    {
        var failure = await SettingsTests.StartFailureAsync("Production", new Dictionary<string, string?>
        {
            ["Auth:SigningKey"] = GoodKey,
            ["Passkeys:RelyingPartyId"] = rpId,
            ["Passkeys:Origins"] = origins,
        });
        Assert.Contains(named, failure?.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("example.com", "https://example.com, https://www.example.com")]
    [InlineData("localhost", "http://localhost:8080")]
    public async Task WorkingSettingsStart(string rpId, string origins)
    {
        Assert.Null(await SettingsTests.StartFailureAsync("Production", new Dictionary<string, string?>
        {
            ["Auth:SigningKey"] = GoodKey,
            ["Passkeys:RelyingPartyId"] = rpId,
            ["Passkeys:Origins"] = origins,
        }));
    }

    [Fact]
    public async Task WithoutTheSettingsEveryPasskeyFunctionAnswers404AndTheAppSaysSoAtStart()
    {
        await using var app = await TestApp.StartAsync();
        var (_, tokens) = await app.NewUserAsync("passkeys-off");
        await app.Logs.WaitForAsync(e => e.EventId.Id == 2300);

        await ProblemAssert.IsProblemAsync(await app.PostAsync("/api/passkeys/register/options", tokens.Access), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(await app.PostAsync("/api/passkeys/register", tokens.Access, new { credential = new { } }), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(await app.GetAsync("/api/passkeys", tokens.Access), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(await app.PostAsync("/api/passkeys/login/options", null, new { }), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(await app.PostAsync("/api/passkeys/login", null, new { challenge_id = "x", credential = new { } }), HttpStatusCode.NotFound);
    }

    /// <summary>As a password login: told only after the passkey was proved, 403 <c>email-not-verified</c>, and no session.</summary>
    [Fact]
    public async Task AnUnverifiedAddressIsToldOnlyAfterThePasskeyHeldWhenVerificationIsRequired()
    {
        await using var app = await TestApp.StartAsync(PasskeyCeremonies.Settings());
        var (_, _, authenticator) = await NewUserWithPasskeyAsync(app);
        var settings = PasskeyCeremonies.Settings();
        settings["Auth:RequireVerifiedEmail"] = "true";
        await using var strict = await app.StartAnotherInstanceAsync(settings);

        var refused = await ProblemAssert.IsProblemAsync(await LoginAsync(strict, authenticator), HttpStatusCode.Forbidden);
        Assert.Equal("https://authfunctions.dev/problems/email-not-verified", refused.GetProperty("type").GetString());
        using var stranger = NewAuthenticator();
        stranger.SignCount = 0;
        await ProblemAssert.IsProblemAsync(await LoginAsync(strict, stranger), HttpStatusCode.Unauthorized);
    }
}
