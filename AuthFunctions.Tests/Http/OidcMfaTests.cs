using System.Net;
using System.Net.Http.Json;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// A federated sign-in never skips the account's own second factor: with TOTP active, the login code's exchange
/// answers 403 mfa-required with an <c>mfa_token</c> and no tokens, and <c>login-mfa</c> finishes at aal2 with the
/// federated methods plus <c>otp</c> (real host, real oidc-provider, codes from oathtool/pyotp).
/// </summary>
public sealed class OidcMfaTests(OidcFixture fixture) : IClassFixture<OidcFixture>
{
    private TestApp App => fixture.App;

    [Fact]
    public async Task AFederatedSignInToAnAccountWithAnAuthenticatorNeedsItsCode()
    {
        string subject = OidcProviderServer.NewSubject("mfa");
        using var first = new OidcSite(App, fixture.Provider);
        var before = await first.SignInAsync(subject);
        var enrol = await ProblemAssert.JsonAsync(await App.PostAsync("/api/mfa/totp", before.Access), HttpStatusCode.OK);
        string secret = enrol.GetProperty("secret").GetString()!;
        await ProblemAssert.JsonAsync(await App.PostAsync("/api/mfa/totp/confirm", before.Access,
            new { code = await IndependentTotp.CodeAsync(secret, App.Clock.GetUtcNow()) }), HttpStatusCode.OK);
        App.Clock.Advance(TimeSpan.FromSeconds(30)); // the confirmation spent this step's code

        using var again = new OidcSite(App, fixture.Provider);
        var landed = await again.CallbackAsync(await again.ToCallbackAsync(subject));
        var exchanged = await again.ExchangeAsync(OidcSite.Fragment(landed, "code"));

        var problem = await ProblemAssert.IsProblemAsync(exchanged, HttpStatusCode.Forbidden);
        Assert.Equal("https://authfunctions.dev/problems/mfa-required", problem.GetProperty("type").GetString());
        Assert.False(problem.TryGetProperty("access_token", out _));
        string mfaToken = problem.GetProperty("mfa_token").GetString()!;
        var finished = await App.Client.PostAsJsonAsync("/api/login/mfa",
            new { mfa_token = mfaToken, code = await IndependentTotp.CodeAsync(secret, App.Clock.GetUtcNow()) });
        var tokens = await ProblemAssert.JsonAsync(finished, HttpStatusCode.OK);
        var claims = TokenForge.Payload(tokens.GetProperty("access_token").GetString()!);
        Assert.Equal(["fed", "pwd", "otp"], claims["amr"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Equal("aal2", claims["acr"]!.GetValue<string>());
        Assert.Equal(TokenForge.Payload(before.Access)["sub"]!.GetValue<string>(), claims["sub"]!.GetValue<string>());
    }
}
