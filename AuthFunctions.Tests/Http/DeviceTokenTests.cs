using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// OWASP's device-cookie defence against targeted lockout: whoever knows an email can exhaust only the
/// account's shared "untrusted" pool; the owner's browser, holding the device token of an earlier login,
/// has a pool of its own.
/// </summary>
public sealed class DeviceTokenTests(AppFixture fixture) : AppTestBase(fixture)
{
    private static Task<HttpResponseMessage> LoginAsync(TestApp app, string email, string password, string? deviceToken = null) =>
        app.PostAsync("/api/login", null, new { email, password, device_token = deviceToken });

    private async Task<string> DeviceTokenOfAsync(string email)
    {
        var json = await ProblemAssert.JsonAsync(await LoginAsync(App, email, TestApp.Password), HttpStatusCode.OK);
        return json.GetProperty("device_token").GetString()!;
    }

    private async Task ExhaustUntrustedPoolAsync(string email)
    {
        for (int i = 0; i < 5; i++)
        {
            await ProblemAssert.IsProblemAsync(await LoginAsync(App, email, "attacker guess " + i), HttpStatusCode.Unauthorized);
        }
        await ProblemAssert.IsProblemAsync(await LoginAsync(App, email, TestApp.Password), HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task SuccessfulLoginReturnsADeviceTokenButRefreshDoesNot()
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);

        var login = await ProblemAssert.JsonAsync(await LoginAsync(App, email, TestApp.Password), HttpStatusCode.OK);
        var refresh = await ProblemAssert.JsonAsync(await App.RefreshAsync(login.GetProperty("refresh_token").GetString()!), HttpStatusCode.OK);

        Assert.False(string.IsNullOrEmpty(login.GetProperty("device_token").GetString()));
        Assert.False(refresh.TryGetProperty("device_token", out _));
    }

    [Fact]
    public async Task TheOwnersKnownDeviceLogsInWhileAnAttackerHasLockedTheUntrustedPool()
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);
        string device = await DeviceTokenOfAsync(email);

        await ExhaustUntrustedPoolAsync(email);
        await using var other = await App.StartAnotherInstanceAsync();

        var owner = await ProblemAssert.JsonAsync(await LoginAsync(other, email, TestApp.Password, device), HttpStatusCode.OK);
        Assert.Equal(device, owner.GetProperty("device_token").GetString());
        await ProblemAssert.IsProblemAsync(await LoginAsync(App, email, TestApp.Password), HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task ADeviceHasItsOwnEscalatingDelays()
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);
        string device = await DeviceTokenOfAsync(email);
        for (int i = 0; i < 5; i++)
        {
            await ProblemAssert.IsProblemAsync(await LoginAsync(App, email, "typo " + i, device), HttpStatusCode.Unauthorized);
        }

        var locked = await LoginAsync(App, email, TestApp.Password, device);

        await ProblemAssert.IsProblemAsync(locked, HttpStatusCode.TooManyRequests);
        Assert.Equal("1", locked.Headers.GetValues("Retry-After").Single());
        // The device's failures did not touch the untrusted pool.
        await App.LoginAsync(email);
    }

    [Theory]
    [InlineData("other account")]
    [InlineData("tampered")]
    [InlineData("expired")]
    [InlineData("garbage")]
    public async Task ATokenThatIsNotThisAccountsValidDeviceTokenCountsAsUntrusted(string kind)
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);
        string own = await DeviceTokenOfAsync(email);
        string presented = kind switch
        {
            "other account" => await DeviceTokenOfAsync((await App.NewUserAsync()).Email),
            "tampered" => own[..^2] + (own[^2] == 'A' ? "BA" : "AA"),
            "garbage" => "not-a-device-token",
            _ => own,
        };
        if (kind == "expired")
        {
            App.Clock.Advance(TimeSpan.FromDays(366));
        }

        await ExhaustUntrustedPoolAsync(email);

        await ProblemAssert.IsProblemAsync(await LoginAsync(App, email, TestApp.Password, presented), HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task ADeviceTokenSurvivesASigningKeyRotationAndDiesWithItsKey()
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);
        string device = await DeviceTokenOfAsync(email);
        await ExhaustUntrustedPoolAsync(email);
        string newKey = TestApp.NewSigningKeyPem();

        await using var rotated = await App.StartAnotherInstanceAsync(new Dictionary<string, string?> { ["Auth:SigningKeys:0"] = newKey, ["Auth:SigningKeys:1"] = App.SigningKeyPems[0] });
        await ProblemAssert.JsonAsync(await LoginAsync(rotated, email, TestApp.Password, device), HttpStatusCode.OK);

        await using var oldKeyDropped = await App.StartAnotherInstanceAsync(new Dictionary<string, string?> { ["Auth:SigningKeys:0"] = newKey });
        await ProblemAssert.IsProblemAsync(await LoginAsync(oldKeyDropped, email, TestApp.Password, device), HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task FormLoginTakesTheDeviceTokenToo()
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);
        string device = await DeviceTokenOfAsync(email);
        await ExhaustUntrustedPoolAsync(email);

        var response = await App.Client.PostAsync("/api/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = email,
            ["password"] = TestApp.Password,
            ["device_token"] = device,
        }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(JsonValueKind.String, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("device_token").ValueKind);
    }
}
