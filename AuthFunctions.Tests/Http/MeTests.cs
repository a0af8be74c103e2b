using System.Net;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

public sealed class MeTests(AppFixture fixture) : AppTestBase(fixture)
{
    [Fact]
    public async Task MeReturnsTheProfile()
    {
        string email = TestApp.UniqueEmail();
        var created = await ProblemAssert.JsonAsync(await App.RegisterAsync(email, fullName: "Grace Hopper"), HttpStatusCode.Created);
        var tokens = await App.LoginAsync(email);

        var me = await ProblemAssert.JsonAsync(await App.GetAsync("/api/me", tokens.Access), HttpStatusCode.OK);

        Assert.Equal(created.GetProperty("id").GetString(), me.GetProperty("id").GetString());
        Assert.Equal(email, me.GetProperty("email").GetString());
        Assert.Equal("Grace Hopper", me.GetProperty("full_name").GetString());
        Assert.Equal(created.GetProperty("created_at").GetString(), me.GetProperty("created_at").GetString());
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, me.GetProperty("last_login_at").ValueKind);
        Assert.False(me.TryGetProperty("password_hash", out _));
    }

    [Fact]
    public async Task MeWithoutTokenIsRefused() =>
        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/me", null));
}
