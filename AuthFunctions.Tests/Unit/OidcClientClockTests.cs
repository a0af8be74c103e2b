using System.Security.Cryptography;
using System.Text;
using System.Web;
using AuthFunctions.Federation;
using AuthFunctions.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Tests.Unit;

/// <summary>
/// The ID token's <c>exp</c> is judged by the app's injected clock, not the system's (OpenID Connect Core 1.0 §3.1.3.7
/// (9)). In process, because only here can one clock move while the other does not: <see cref="OidcClient"/> over the
/// real provider (oidc-provider), with a <see cref="ManualClock"/>.
/// </summary>
public sealed class OidcClientClockTests : IAsyncLifetime
{
    // Registered at the provider and never listened on: the provider's redirect there is read, not followed.
    private readonly string _redirectUri = $"http://127.0.0.1:{FreePort.Next()}/api/oidc/test/callback";
    private OidcProviderServer _server = null!;

    public async Task InitializeAsync() => _server = await OidcProviderServer.StartAsync(_redirectUri);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string NewSecret() => System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>An authorization request written here (RFC 6749 §4.1.1, RFC 7636 §4.3), and a new user's login at the provider: a code, its verifier and nonce.</summary>
    private async Task<(string Code, string Verifier, string Nonce)> AuthorizeAsync(OidcClient client, OidcProviderOptions provider)
    {
        var configuration = await client.ConfigurationAsync(provider, CancellationToken.None);
        string verifier = NewSecret(), nonce = NewSecret(), state = NewSecret();
        string challenge = System.Buffers.Text.Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        var request = new Uri($"{configuration.AuthorizationEndpoint}?response_type=code&client_id={OidcProviderServer.ClientId}" +
            $"&redirect_uri={Uri.EscapeDataString(_redirectUri)}&scope=openid%20email&state={state}&nonce={nonce}&code_challenge={challenge}&code_challenge_method=S256");

        var callback = await _server.SignInAsync(request, $"clock-{Guid.NewGuid():N}");

        var answer = HttpUtility.ParseQueryString(callback.Query);
        Assert.Equal(state, answer["state"]);
        return (answer["code"]!, verifier, nonce);
    }

    [Fact]
    public async Task AnIdTokensExpiryIsJudgedByTheInjectedClock()
    {
        var provider = new OidcProviderOptions
        {
            Name = "test",
            Authority = _server.Issuer.ToString().TrimEnd('/'),
            ClientId = OidcProviderServer.ClientId,
            ClientSecret = _server.ClientSecret,
        };
        using var clock = new ManualClock();
        using var client = new OidcClient(Options.Create(new OidcOptions { Providers = [provider] }), clock);

        // The provider's ID tokens live 600 s (TestData/oidc-provider.mjs). Five minutes on, by our clock: still valid.
        var (code, verifier, nonce) = await AuthorizeAsync(client, provider);
        clock.Advance(TimeSpan.FromMinutes(5));
        var identity = await client.RedeemAsync(provider, code, _redirectUri, verifier, nonce, CancellationToken.None);
        Assert.StartsWith("clock-", identity.Subject, StringComparison.Ordinal);

        // Thirteen minutes on, by our clock only (the system's says the token is fresh): past exp and the 2-minute skew.
        (code, verifier, nonce) = await AuthorizeAsync(client, provider);
        clock.Advance(TimeSpan.FromMinutes(8));
        var refused = await Assert.ThrowsAsync<IdTokenRejectedException>(() => client.RedeemAsync(provider, code, _redirectUri, verifier, nonce, CancellationToken.None));
        Assert.Contains(nameof(Microsoft.IdentityModel.Tokens.SecurityTokenInvalidLifetimeException), refused.Message, StringComparison.Ordinal);
    }
}
