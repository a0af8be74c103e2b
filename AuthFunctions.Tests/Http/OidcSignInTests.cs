using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AuthFunctions.Tests.Infrastructure;
using Azure.Data.Tables;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// Sign-in with an OpenID Connect provider through the real host, against a real local provider (oidc-provider): the
/// flow, account resolution, linking, and the attacks the callback must refuse (each of which creates nothing).
/// </summary>
public sealed class OidcSignInTests(OidcFixture fixture) : IClassFixture<OidcFixture>
{
    private TestApp App => fixture.App;

    private OidcProviderServer Provider => fixture.Provider;

    private static string EmailOf(string subject) => $"{subject}@idp.example.test";

    private async Task<bool> EmailHasAccountAsync(string email)
    {
        await App.Table("emails").CreateIfNotExistsAsync();
        await foreach (var _ in App.Table("emails").QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {email}")))
        {
            return true;
        }
        return false;
    }

    private async Task<JsonElement> MeAsync(string accessToken) =>
        await ProblemAssert.JsonAsync(await App.GetAsync("/api/me", accessToken), HttpStatusCode.OK);

    [Fact]
    public async Task ANewIdentityGetsAnAccountWithoutPasswordAndTheUsualTokenPair()
    {
        using var site = new OidcSite(App, Provider);
        string subject = OidcProviderServer.NewSubject("new");

        var landed = await site.CallbackAsync(await site.ToCallbackAsync(subject));

        Assert.Equal(OidcFixture.ReturnUrl, landed.GetLeftPart(UriPartial.Path));
        Assert.Empty(landed.Query);
        string code = OidcSite.Fragment(landed, "code")!;
        Assert.NotNull(code);
        var tokens = await ProblemAssert.JsonAsync(await site.ExchangeAsync(code), HttpStatusCode.OK);
        string access = tokens.GetProperty("access_token").GetString()!;
        Assert.Equal("Bearer", tokens.GetProperty("token_type").GetString());
        Assert.False(string.IsNullOrEmpty(tokens.GetProperty("refresh_token").GetString()));
        // RFC 8176: a federated sign-in, plus what the provider reported (its login page: a password).
        var claims = TokenForge.Payload(access);
        Assert.Equal(["fed", "pwd"], claims["amr"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Equal("aal1", claims["acr"]!.GetValue<string>());
        var me = await MeAsync(access);
        Assert.Equal(EmailOf(subject), me.GetProperty("email").GetString());
        Assert.True(me.GetProperty("email_verified").GetBoolean());
        var identity = Assert.Single(me.GetProperty("identities").EnumerateArray());
        Assert.Equal("test", identity.GetProperty("provider").GetString());
        Assert.Equal(subject, identity.GetProperty("subject").GetString());
        Assert.Equal(EmailOf(subject), identity.GetProperty("email").GetString());
        Assert.True(identity.TryGetProperty("linked_at", out _));
        // The refresh token works as any other.
        Assert.Equal(HttpStatusCode.OK, (await App.RefreshAsync(tokens.GetProperty("refresh_token").GetString()!)).StatusCode);
    }

    [Fact]
    public async Task AReturningUserSignsInToTheSameAccount()
    {
        using var site = new OidcSite(App, Provider);
        string subject = OidcProviderServer.NewSubject("returning");
        var first = await site.SignInAsync(subject);
        using var again = new OidcSite(App, Provider);

        var second = await again.SignInAsync(subject);

        Assert.Equal(TokenForge.Payload(first.Access)["sub"]!.GetValue<string>(), TokenForge.Payload(second.Access)["sub"]!.GetValue<string>());
        Assert.NotEqual(TokenForge.Payload(first.Access)["sid"]!.GetValue<string>(), TokenForge.Payload(second.Access)["sid"]!.GetValue<string>());
    }

    [Fact]
    public async Task AnExistingEmailIsRefusedThenLinkedFromTheSignedInAccount()
    {
        var (email, tokens) = await App.NewUserAsync("existing");
        string subject = OidcProviderServer.NewSubject("existing");
        await Provider.AddUserAsync(subject, email);
        using var site = new OidcSite(App, Provider);

        var refused = await site.CallbackAsync(await site.ToCallbackAsync(subject));

        Assert.Equal("account_exists", OidcSite.Fragment(refused, "error"));
        Assert.Null(OidcSite.Fragment(refused, "code"));
        Assert.Empty((await MeAsync(tokens.Access)).GetProperty("identities").EnumerateArray());

        // Signed in with the password, the owner asks for a link ticket and links the identity.
        var ticket = await ProblemAssert.JsonAsync(await App.PostAsync("/api/oidc/link-ticket", tokens.Access), HttpStatusCode.OK);
        Assert.Equal(60, ticket.GetProperty("expires_in").GetInt32());
        string link = $"/api/oidc/test/link?return_to={Uri.EscapeDataString(OidcFixture.ReturnUrl)}&ticket={ticket.GetProperty("ticket").GetString()}";
        using var toProvider = await site.Client.GetAsync(link);
        Assert.Equal(HttpStatusCode.Found, toProvider.StatusCode);
        var linked = await site.CallbackAsync(await Provider.SignInAsync(toProvider.Headers.Location!, subject));
        Assert.Equal("test", OidcSite.Fragment(linked, "linked"));
        var identity = Assert.Single((await MeAsync(tokens.Access)).GetProperty("identities").EnumerateArray());
        Assert.Equal(subject, identity.GetProperty("subject").GetString());

        // The ticket was spent; the identity now signs in to the password account.
        await ProblemAssert.IsProblemAsync(await site.Client.GetAsync(link), HttpStatusCode.BadRequest);
        using var later = new OidcSite(App, Provider);
        var federated = await later.SignInAsync(subject);
        Assert.Equal(TokenForge.Payload(tokens.Access)["sub"]!.GetValue<string>(), TokenForge.Payload(federated.Access)["sub"]!.GetValue<string>());
    }

    [Fact]
    public async Task AReplayedStateIsRefusedAndCreatesNothing()
    {
        using var site = new OidcSite(App, Provider);
        string subject = OidcProviderServer.NewSubject("replay");
        var callback = await site.ToCallbackAsync(subject);
        var first = await site.CallbackAsync(callback);
        Assert.NotNull(OidcSite.Fragment(first, "code"));

        var replayed = await site.CallbackAsync(callback);

        Assert.Equal(OidcFixture.ReturnUrl, replayed.GetLeftPart(UriPartial.Path));
        Assert.Equal("invalid_request", OidcSite.Fragment(replayed, "error"));
        Assert.Null(OidcSite.Fragment(replayed, "code"));
        // Refused for its state (spent), before the provider was asked to redeem its code a second time.
        await App.Logs.WaitForAsync(e => e.EventId.Id == 6102 && e.Message.Contains("state unknown, spent or expired", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AStateThisAppNeverIssuedIsRefusedWithoutARedirect()
    {
        using var site = new OidcSite(App, Provider);
        string forged = "0." + System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

        var redirected = await site.CallbackAsync(new Uri(App.BaseAddress, $"/api/oidc/test/callback?code=abc&state={forged}"));
        Assert.Equal("invalid_request", OidcSite.Fragment(redirected, "error"));
        foreach (string state in new[] { "", "nonsense", "9." + forged[2..], "0.short" })
        {
            await ProblemAssert.IsProblemAsync(await site.Client.GetAsync($"/api/oidc/test/callback?code=abc&state={Uri.EscapeDataString(state)}"), HttpStatusCode.BadRequest);
        }
    }

    [Theory]
    [InlineData("nonce-mismatch")]
    [InlineData("wrong-issuer")]
    [InlineData("wrong-audience")]
    [InlineData("expired")]
    [InlineData("tampered")]
    [InlineData("foreign-key")]
    public async Task AnIdTokenTheProviderDidNotIssueForThisSignInIsRefusedAndCreatesNothing(string attack)
    {
        using var site = new OidcSite(App, Provider);
        string subject = OidcProviderServer.NewSubject(attack);
        var callback = await site.ToCallbackAsync(subject);
        await Provider.SetModeAsync(attack);
        Uri landed;
        try
        {
            landed = await site.CallbackAsync(callback);
        }
        finally
        {
            await Provider.SetModeAsync("none");
        }

        Assert.Equal("invalid_request", OidcSite.Fragment(landed, "error"));
        Assert.Null(OidcSite.Fragment(landed, "code"));
        Assert.False(await EmailHasAccountAsync(EmailOf(subject)));
        Assert.False(await EmailHasAccountAsync("someone-else@idp.example.test"));
    }

    [Theory]
    [InlineData("https://evil.example.test/app/")]
    [InlineData("https://site.example.test/app/evil")]
    [InlineData("https://site.example.test/app/?next=https://evil.example.test")]
    [InlineData("https://site.example.test/app")]
    [InlineData("HTTPS://SITE.EXAMPLE.TEST/app/")]
    [InlineData("//evil.example.test/app/")]
    [InlineData("https://site.example.test@evil.example.test/app/")]
    [InlineData("")]
    public async Task AReturnToThatIsNotExactlyAConfiguredPageIsRefused(string returnTo)
    {
        using var site = new OidcSite(App, Provider);

        var start = await site.Client.GetAsync($"/api/oidc/test/start?return_to={Uri.EscapeDataString(returnTo)}&code_challenge={site.Challenge}");
        var link = await site.Client.GetAsync($"/api/oidc/test/link?return_to={Uri.EscapeDataString(returnTo)}&ticket=x");

        await ProblemAssert.IsProblemAsync(start, HttpStatusCode.BadRequest);
        await ProblemAssert.IsProblemAsync(link, HttpStatusCode.BadRequest);
        Assert.Null(start.Headers.Location);
    }

    [Fact]
    public async Task StartNeedsAnS256ChallengeAndAKnownProvider()
    {
        using var site = new OidcSite(App, Provider);
        string returnTo = Uri.EscapeDataString(OidcFixture.ReturnUrl);

        await ProblemAssert.IsProblemAsync(await site.Client.GetAsync($"/api/oidc/test/start?return_to={returnTo}"), HttpStatusCode.BadRequest);
        await ProblemAssert.IsProblemAsync(await site.Client.GetAsync($"/api/oidc/test/start?return_to={returnTo}&code_challenge=short"), HttpStatusCode.BadRequest);
        await ProblemAssert.IsProblemAsync(await site.Client.GetAsync($"/api/oidc/test/start?return_to={returnTo}&code_challenge={site.Challenge}&code_challenge_method=plain"), HttpStatusCode.BadRequest);
        await ProblemAssert.IsProblemAsync(await site.Client.GetAsync($"/api/oidc/nope/start?return_to={returnTo}&code_challenge={site.Challenge}"), HttpStatusCode.NotFound);
        var toProvider = await site.StartAsync();
        Assert.StartsWith(Provider.Issuer.ToString(), toProvider.ToString(), StringComparison.Ordinal);
        var query = System.Web.HttpUtility.ParseQueryString(toProvider.Query);
        Assert.Equal("S256", query["code_challenge_method"]);
        // Our own PKCE toward the provider, not the site's challenge.
        Assert.NotEqual(site.Challenge, query["code_challenge"]);
        Assert.NotNull(query["nonce"]);
        Assert.Equal($"{App.BaseAddress.ToString().TrimEnd('/')}/api/oidc/test/callback", query["redirect_uri"]);
    }

    [Fact]
    public async Task ALoginCodeIsSpentOnceAndOnlyWithTheSitesVerifier()
    {
        using var site = new OidcSite(App, Provider);
        var landed = await site.CallbackAsync(await site.ToCallbackAsync(OidcProviderServer.NewSubject("code")));
        string code = OidcSite.Fragment(landed, "code")!;

        Assert.Equal(HttpStatusCode.OK, (await site.ExchangeAsync(code)).StatusCode);
        await ProblemAssert.IsProblemAsync(await site.ExchangeAsync(code), HttpStatusCode.BadRequest);

        using var other = new OidcSite(App, Provider);
        var next = await other.CallbackAsync(await other.ToCallbackAsync(OidcProviderServer.NewSubject("verifier")));
        string stolen = OidcSite.Fragment(next, "code")!;
        await ProblemAssert.IsProblemAsync(await other.ExchangeAsync(stolen, site.Verifier), HttpStatusCode.BadRequest);
        // A wrong verifier spends the code: it cannot be guessed at, and the right one comes too late.
        await ProblemAssert.IsProblemAsync(await other.ExchangeAsync(stolen), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task ALoginCodeLivesSixtySeconds()
    {
        using var site = new OidcSite(App, Provider);
        var landed = await site.CallbackAsync(await site.ToCallbackAsync(OidcProviderServer.NewSubject("late")));

        App.Clock.Advance(TimeSpan.FromSeconds(61));

        await ProblemAssert.IsProblemAsync(await site.ExchangeAsync(OidcSite.Fragment(landed, "code")), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task TheProvidersErrorComesBackInTheFragment()
    {
        using var site = new OidcSite(App, Provider);

        var landed = await site.CallbackAsync(await site.ToCallbackAsync(OidcProviderServer.NewSubject("abort"), abort: true));

        Assert.Equal("access_denied", OidcSite.Fragment(landed, "error"));
    }

    [Fact]
    public async Task ADiscoveryThatNeverAnswersEndsInTemporarilyUnavailableWithinTheBound()
    {
        using var site = new OidcSite(App, Provider);
        var watch = Stopwatch.StartNew();

        var response = await site.Client.GetAsync($"/api/oidc/down/start?return_to={Uri.EscapeDataString(OidcFixture.ReturnUrl)}&code_challenge={site.Challenge}");

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal("temporarily_unavailable", OidcSite.Fragment(response.Headers.Location!, "error"));
        Assert.True(watch.Elapsed < OidcFixture.ProviderTimeout + TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Theory]
    [InlineData("stall-token")]
    [InlineData("token-500")]
    public async Task ATokenEndpointThatStallsOrFailsEndsInTemporarilyUnavailableWithinTheBound(string mode)
    {
        using var site = new OidcSite(App, Provider);
        string subject = OidcProviderServer.NewSubject("slow");
        var callback = await site.ToCallbackAsync(subject);
        await Provider.SetModeAsync(mode);
        var watch = Stopwatch.StartNew();
        Uri landed;
        try
        {
            landed = await site.CallbackAsync(callback);
        }
        finally
        {
            await Provider.SetModeAsync("none");
        }

        Assert.Equal("temporarily_unavailable", OidcSite.Fragment(landed, "error"));
        Assert.True(watch.Elapsed < OidcFixture.ProviderTimeout + TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Assert.False(await EmailHasAccountAsync(EmailOf(subject)));
    }

    [Fact]
    public async Task AFederatedAccountRefusesPasswordsAsAWrongPasswordUntilAResetSetsOne()
    {
        using var site = new OidcSite(App, Provider);
        string subject = OidcProviderServer.NewSubject("nopassword");
        var tokens = await site.SignInAsync(subject);
        string email = EmailOf(subject);
        var (other, _) = await App.NewUserAsync("wrongpassword");

        using var verifications = new PasswordVerificationRecorder(App);
        var noPassword = await App.Client.PostAsJsonAsync("/api/login", new { email, password = TestApp.Password });
        var noPasswordWork = verifications.TakeCosts();
        var wrongPassword = await App.Client.PostAsJsonAsync("/api/login", new { email = other, password = "not the password at all" });
        var wrongPasswordWork = verifications.TakeCosts();

        var refused = await ProblemAssert.IsProblemAsync(noPassword, HttpStatusCode.Unauthorized);
        var wrong = await ProblemAssert.IsProblemAsync(wrongPassword, HttpStatusCode.Unauthorized);
        Assert.Equal(wrong.GetProperty("detail").GetString(), refused.GetProperty("detail").GetString());
        // The same work as a wrong password: one bcrypt verification at the configured cost (no timing difference).
        Assert.Equal([TestApp.BcryptCost], noPasswordWork);
        Assert.Equal(wrongPasswordWork, noPasswordWork);
        // The only identity of an account without a password cannot be unlinked.
        await ProblemAssert.IsProblemAsync(await App.SendAsync(HttpMethod.Delete, "/api/me/identities/test", tokens.Access), HttpStatusCode.Conflict);

        Assert.Equal(HttpStatusCode.Accepted, (await App.Client.PostAsJsonAsync("/api/password/forgot", new { email })).StatusCode);
        string token = (await (await MailDevServer.Shared).WaitForMessageAsync(email)).LinkToken("reset-password");
        Assert.Equal(HttpStatusCode.NoContent, (await App.Client.PostAsJsonAsync("/api/password/reset", new { token, new_password = "a brand new passphrase here" })).StatusCode);
        var withPassword = await App.LoginAsync(email, "a brand new passphrase here");

        // With a password the identity may go; then it is gone from the account and its claim is free.
        Assert.Equal(HttpStatusCode.NoContent, (await App.SendAsync(HttpMethod.Delete, "/api/me/identities/test", withPassword.Access)).StatusCode);
        Assert.Empty((await MeAsync(withPassword.Access)).GetProperty("identities").EnumerateArray());
        await ProblemAssert.IsProblemAsync(await App.SendAsync(HttpMethod.Delete, "/api/me/identities/test", withPassword.Access), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeletingTheAccountFreesItsIdentity()
    {
        using var site = new OidcSite(App, Provider);
        string subject = OidcProviderServer.NewSubject("deleted");
        var first = await site.SignInAsync(subject);
        string email = EmailOf(subject);
        Assert.Equal(HttpStatusCode.Accepted, (await App.Client.PostAsJsonAsync("/api/password/forgot", new { email })).StatusCode);
        string token = (await (await MailDevServer.Shared).WaitForMessageAsync(email)).LinkToken("reset-password");
        Assert.Equal(HttpStatusCode.NoContent, (await App.Client.PostAsJsonAsync("/api/password/reset", new { token, new_password = "a brand new passphrase here" })).StatusCode);
        var tokens = await App.LoginAsync(email, "a brand new passphrase here");

        using var delete = new HttpRequestMessage(HttpMethod.Delete, "/api/me") { Content = JsonContent.Create(new { password = "a brand new passphrase here" }) };
        delete.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", tokens.Access);
        Assert.Equal(HttpStatusCode.NoContent, (await App.Client.SendAsync(delete)).StatusCode);

        Assert.Empty(App.Table("identities").Query<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"test:" + subject}")));
        using var again = new OidcSite(App, Provider);
        var fresh = await again.SignInAsync(subject);
        Assert.NotEqual(TokenForge.Payload(first.Access)["sub"]!.GetValue<string>(), TokenForge.Payload(fresh.Access)["sub"]!.GetValue<string>());
    }

    [Fact]
    public async Task NothingSecretReachesTheLogs()
    {
        using var site = new OidcSite(App, Provider);
        var callback = await site.ToCallbackAsync(OidcProviderServer.NewSubject("logs"));
        var landed = await site.CallbackAsync(callback);
        string code = OidcSite.Fragment(landed, "code")!;
        var tokens = await ProblemAssert.JsonAsync(await site.ExchangeAsync(code), HttpStatusCode.OK);
        await App.Logs.WaitForAsync(e => e.EventId.Id == 1202);

        var query = System.Web.HttpUtility.ParseQueryString(callback.Query);
        string text = string.Join('\n', App.Logs.Entries.Select(e => e.Message));
        foreach (string secret in new[] { query["code"]!, query["state"]!, code, site.Verifier, tokens.GetProperty("refresh_token").GetString()!, Provider.ClientSecret })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }
        Assert.DoesNotContain(callback.Query.TrimStart('?'), text, StringComparison.Ordinal);
    }
}

/// <summary>Without a provider configured the federation functions do not exist for the client: 404.</summary>
public sealed class OidcNotConfiguredTests(AppFixture fixture) : AppTestBase(fixture)
{
    [Fact]
    public async Task EveryFederationFunctionAnswers404()
    {
        var (_, tokens) = await App.NewUserAsync("nooidc");
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = App.BaseAddress };

        await ProblemAssert.IsProblemAsync(await client.GetAsync("/api/oidc/test/start?return_to=x&code_challenge=y"), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(await client.GetAsync("/api/oidc/test/callback?code=x&state=y"), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(await client.GetAsync("/api/oidc/test/link?return_to=x&ticket=y"), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(await client.PostAsJsonAsync("/api/oidc/exchange", new { code = "x", code_verifier = "y" }), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(await App.PostAsync("/api/oidc/link-ticket", tokens.Access), HttpStatusCode.NotFound);
        await ProblemAssert.IsProblemAsync(await App.SendAsync(HttpMethod.Delete, "/api/me/identities/test", tokens.Access), HttpStatusCode.NotFound);
    }
}
