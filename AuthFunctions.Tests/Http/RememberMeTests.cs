using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

/// <summary>remember_me (the Flask-Login seed's feature) and every session's absolute lifetime (ASVS 7.3.2).</summary>
public sealed class RememberMeTests(AppFixture fixture) : AppTestBase(fixture)
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Auth:SessionMaxDays"] = "45" };

    private async Task<JsonElement> LoginAsync(string email, bool? rememberMe)
    {
        object body = rememberMe is { } remember ? new { email, password = TestApp.Password, remember_me = remember } : new { email, password = TestApp.Password };
        return await ProblemAssert.JsonAsync(await App.Client.PostAsJsonAsync("/api/login", body), HttpStatusCode.OK);
    }

    private async Task<JsonElement> RefreshAsync(JsonElement pair) =>
        await ProblemAssert.JsonAsync(await App.RefreshAsync(pair.GetProperty("refresh_token").GetString()!), HttpStatusCode.OK);

    [Fact]
    public async Task NotRememberedSessionsEndTwelveHoursAfterLoginHoweverOftenRefreshed()
    {
        var (email, _) = await App.NewUserAsync();
        var pair = await LoginAsync(email, rememberMe: false);
        Assert.Equal(12 * 3600, pair.GetProperty("refresh_expires_in").GetInt32());

        App.Clock.Advance(TimeSpan.FromHours(11));
        pair = await RefreshAsync(pair);
        Assert.Equal(3600, pair.GetProperty("refresh_expires_in").GetInt32());

        App.Clock.Advance(TimeSpan.FromMinutes(61));
        await ProblemAssert.IsProblemAsync(await App.RefreshAsync(pair.GetProperty("refresh_token").GetString()!), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task RememberedIsTheDefaultAndSlidesThirtyDays()
    {
        var (email, _) = await App.NewUserAsync();
        var pair = await LoginAsync(email, rememberMe: null);
        Assert.Equal(30 * 86400, pair.GetProperty("refresh_expires_in").GetInt32());

        App.Clock.Advance(TimeSpan.FromDays(10));
        pair = await RefreshAsync(pair);

        Assert.Equal(30 * 86400, pair.GetProperty("refresh_expires_in").GetInt32());
    }

    [Fact]
    public async Task EverySessionEndsSessionMaxDaysAfterLogin()
    {
        var (email, _) = await App.NewUserAsync();
        var pair = await LoginAsync(email, rememberMe: true);

        App.Clock.Advance(TimeSpan.FromDays(20));
        pair = await RefreshAsync(pair);
        App.Clock.Advance(TimeSpan.FromDays(20));
        pair = await RefreshAsync(pair);
        Assert.Equal(5 * 86400, pair.GetProperty("refresh_expires_in").GetInt32());

        App.Clock.Advance(TimeSpan.FromDays(5) + TimeSpan.FromSeconds(1));
        await ProblemAssert.IsProblemAsync(await App.RefreshAsync(pair.GetProperty("refresh_token").GetString()!), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task FormLoginsTakeRememberMeToo()
    {
        var (email, _) = await App.NewUserAsync();
        var response = await App.Client.PostAsync("/api/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = email,
            ["password"] = TestApp.Password,
            ["remember_me"] = "false",
        }));

        var pair = await ProblemAssert.JsonAsync(response, HttpStatusCode.OK);
        Assert.Equal(12 * 3600, pair.GetProperty("refresh_expires_in").GetInt32());
    }
}
