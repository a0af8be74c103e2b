using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// A spent refresh token's successor is derived with a key from the signing keys (HKDF, its own label): instances of
/// one deployment agree on it in either signing mode, and a deployment with other keys derives another.
/// </summary>
public sealed class RefreshRotationKeyTests(AppFixture fixture) : AppTestBase(fixture)
{
    private static async Task<string> RefreshedTokenAsync(TestApp app, string refreshToken)
    {
        var response = await app.Client.PostAsJsonAsync("/api/refresh", new { refresh_token = refreshToken });
        var json = await ProblemAssert.JsonAsync(response, HttpStatusCode.OK);
        return json.GetProperty("refresh_token").GetString()!;
    }

    [Fact]
    public async Task AnotherInstanceGivesTheSameSuccessorWithinTheGraceWindow() => await AssertInstancesAgreeAsync(App);

    [Fact]
    public async Task Hs256InstancesAgreeOnTheSuccessorToo()
    {
        await using var hs256 = await TestApp.StartAsync(TestApp.Hs256Settings());
        await AssertInstancesAgreeAsync(hs256);
    }

    private static async Task AssertInstancesAgreeAsync(TestApp app)
    {
        await using var other = await app.StartAnotherInstanceAsync();
        var (_, login) = await app.NewUserAsync();

        string first = await RefreshedTokenAsync(app, login.Refresh);
        other.Clock.Advance(TimeSpan.FromSeconds(2));
        string second = await RefreshedTokenAsync(other, login.Refresh);

        Assert.Equal(first, second);
    }

    [Fact]
    public async Task ADeploymentWithAnotherKeyDerivesAnotherSuccessor()
    {
        // Same tables, another key: the spent token's successor no longer matches, so the grace path does not apply
        // and the presented token counts as reuse. The successor depends on the key, not on the token alone.
        await using var other = await App.StartAnotherInstanceAsync(new Dictionary<string, string?> { ["Auth:SigningKeys:0"] = TestApp.NewSigningKeyPem() });
        var (_, login) = await App.NewUserAsync();

        await RefreshedTokenAsync(App, login.Refresh);
        other.Clock.Advance(TimeSpan.FromSeconds(2));
        var response = await other.Client.PostAsJsonAsync("/api/refresh", new { refresh_token = login.Refresh });

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
    }
}
