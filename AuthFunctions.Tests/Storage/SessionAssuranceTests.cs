using AuthFunctions.Sessions;
using AuthFunctions.Tests.Infrastructure;
using AuthFunctions.Tokens;
using AuthFunctions.Users;

namespace AuthFunctions.Tests.Storage;

/// <summary>
/// How a sign-in was authenticated (RFC 8176 <c>amr</c>, <c>acr</c> aal1/aal2) is stored with the session over a real
/// Azurite, written into every access token of the session, kept by refresh, and handed to protected functions.
/// </summary>
public sealed class SessionAssuranceTests : IAsyncLifetime
{
    private static readonly SessionAssurance WithCode = new(["pwd", "otp"], SessionAssurance.MultiFactor);
    private ServicesHost? _services;

    private T Get<T>() where T : notnull => _services!.Services.GetRequiredService<T>();

    public async Task InitializeAsync() => _services = await ServicesHost.OverSharedAzuriteAsync();

    public async Task DisposeAsync() => await _services!.DisposeAsync();

    private async Task<UserProfile> NewUserAsync()
    {
        var registered = await Get<UserStore>().RegisterAsync(TestApp.UniqueEmail(), "$2b$04$original.hash.original.hash.original.hash.origi", passwordNormalized: true, null, CancellationToken.None);
        return registered.User!;
    }

    /// <summary>The token's <c>amr</c> and <c>acr</c> as one comparable text, e.g. <c>pwd otp/aal2</c>.</summary>
    private static string ClaimsOf(string accessToken)
    {
        var payload = TokenForge.Payload(accessToken);
        return string.Join(' ', payload["amr"]!.AsArray().Select(value => (string)value!)) + "/" + (string)payload["acr"]!;
    }

    [Fact]
    public async Task AMultiFactorSessionKeepsItsMethodsAndLevelThroughRefresh()
    {
        var user = await NewUserAsync();
        var sessions = Get<SessionService>();

        var issued = await sessions.StartAsync(user, "test", rememberMe: true, WithCode, CancellationToken.None);
        var refreshed = await sessions.RefreshAsync(issued!.RefreshToken, CancellationToken.None);

        Assert.Equal("pwd otp/aal2", ClaimsOf(issued.AccessToken));
        Assert.Equal(RefreshStatus.Refreshed, refreshed.Status);
        Assert.Equal("pwd otp/aal2", ClaimsOf(refreshed.Tokens!.AccessToken));
        var claims = await Get<TokenService>().ValidateAccessTokenAsync(refreshed.Tokens.AccessToken);
        var caller = await sessions.AuthenticateAsync(claims!, CancellationToken.None);
        Assert.Equal(WithCode, caller!.Assurance);
        Assert.True(caller.Assurance.IsMultiFactor);
    }

    [Fact]
    public async Task APasswordSessionIsSingleFactor()
    {
        var user = await NewUserAsync();
        var sessions = Get<SessionService>();

        var issued = await sessions.StartAsync(user, "test", CancellationToken.None);
        var refreshed = await sessions.RefreshAsync(issued!.RefreshToken, CancellationToken.None);

        Assert.Equal("pwd/aal1", ClaimsOf(refreshed.Tokens!.AccessToken));
        var caller = await sessions.AuthenticateAsync((await Get<TokenService>().ValidateAccessTokenAsync(issued.AccessToken))!, CancellationToken.None);
        Assert.False(caller!.Assurance.IsMultiFactor);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", "aal2")]
    [InlineData("pwd otp", "aal3")]
    [InlineData("pwd", "")]
    public void ValuesMissingOrNotOursCountAsAPasswordSignIn(string? methods, string? level) =>
        Assert.Equal(SessionAssurance.Password, SessionAssurance.FromStored(methods, level));

    [Fact]
    public void StoredValuesReadBackAsWritten() =>
        Assert.Equal(WithCode, SessionAssurance.FromStored(WithCode.MethodsText, WithCode.Level));
}
