using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// README (Account lifecycle, Deletion): "Deletion checks the password (throttled like a password change)" — in the
/// calling session's own pool (Hardening: "Password changes count in the calling session's own pool"): after
/// <c>Throttle__FreeAttempts</c> wrong passwords that session gets 429 with <c>Retry-After</c> and its password is no
/// longer checked, while the account's other sessions and its logins are not locked out.
/// </summary>
public sealed class AccountDeletionThrottleTests(AppFixture fixture) : AppTestBase(fixture)
{
    private const int FreeAttempts = 3;

    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["Throttle:FreeAttempts"] = FreeAttempts.ToString(CultureInfo.InvariantCulture),
        ["Throttle:BaseDelaySeconds"] = "60",
    };

    private Task<HttpResponseMessage> DeleteAccountAsync(string accessToken, string password) =>
        App.SendAsync(HttpMethod.Delete, "/api/me", accessToken, JsonContent.Create(new { password }));

    [Fact]
    public async Task WrongPasswordsLockTheSessionsDeletionButNotTheAccountsOtherSessions()
    {
        var (email, guessing) = await App.NewUserAsync();
        var owner = await App.LoginAsync(email);
        for (int i = 0; i < FreeAttempts; i++)
        {
            await ProblemAssert.IsProblemAsync(await DeleteAccountAsync(guessing.Access, "wrong password " + i), HttpStatusCode.Unauthorized);
        }

        // The right password now gets 429 unchecked: had it been checked, the account would be gone.
        var locked = await DeleteAccountAsync(guessing.Access, TestApp.Password);

        var problem = await ProblemAssert.IsProblemAsync(locked, HttpStatusCode.TooManyRequests);
        Assert.Contains("session", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(int.Parse(locked.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture) is > 0 and <= 60);
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/me", guessing.Access)).StatusCode);
        await App.LoginAsync(email);
        // The owner's session has its own pool: its deletion goes through.
        Assert.Equal(HttpStatusCode.NoContent, (await DeleteAccountAsync(owner.Access, TestApp.Password)).StatusCode);
        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/me", guessing.Access));
    }

    [Fact]
    public async Task TheLockEndsAfterItsDelay()
    {
        var (_, tokens) = await App.NewUserAsync();
        for (int i = 0; i < FreeAttempts; i++)
        {
            await ProblemAssert.IsProblemAsync(await DeleteAccountAsync(tokens.Access, "wrong password " + i), HttpStatusCode.Unauthorized);
        }
        await ProblemAssert.IsProblemAsync(await DeleteAccountAsync(tokens.Access, TestApp.Password), HttpStatusCode.TooManyRequests);

        App.Clock.Advance(TimeSpan.FromSeconds(61));

        Assert.Equal(HttpStatusCode.NoContent, (await DeleteAccountAsync(tokens.Access, TestApp.Password)).StatusCode);
    }
}

/// <summary>
/// README (Hardening, Per-client rate limits; Settings, <c>RateLimit__PermitsPerMinute</c>): the functions with a
/// per-client budget that <c>RateLimitPerFunctionTests</c> does not cover — <c>me</c>'s PATCH and DELETE and the email-link
/// functions — answer 429 with <c>Retry-After</c> once a client spent its budget. Each case is its own client.
/// </summary>
public sealed class RateLimitedFunctionsTests(AppFixture fixture) : AppTestBase(fixture)
{
    private const int Permits = 3;

    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["RateLimit:PermitsPerMinute"] = Permits.ToString(CultureInfo.InvariantCulture),
    };

    [Theory]
    [InlineData("DELETE", "/api/me", true, """{"password":"wrong password"}""", HttpStatusCode.Unauthorized)]
    [InlineData("PATCH", "/api/me", true, """{"full_name":"Ada"}""", HttpStatusCode.OK)]
    [InlineData("POST", "/api/email/verify/send", true, null, HttpStatusCode.Accepted)]
    [InlineData("POST", "/api/email/verify", false, """{"token":"never-issued"}""", HttpStatusCode.BadRequest)]
    [InlineData("POST", "/api/password/forgot", false, """{"email":"nobody@example.com"}""", HttpStatusCode.Accepted)]
    [InlineData("POST", "/api/password/reset", false, """{"token":"never-issued","new_password":"a new passphrase"}""", HttpStatusCode.BadRequest)]
    public async Task AClientOverItsBudgetGets429(string method, string path, bool signedIn, string? body, HttpStatusCode withinBudget)
    {
        using var client = LoopbackClient.Create(App.BaseAddress);
        string? access = null;
        if (signedIn)
        {
            string email = TestApp.UniqueEmail();
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/api/register", new { email, password = TestApp.Password })).StatusCode);
            access = (await client.LoginAsync(email)).Access;
        }
        for (int i = 0; i < Permits; i++)
        {
            var served = await SendAsync(client, method, path, access, body);
            Assert.True(withinBudget == served.StatusCode, $"request {i + 1}: {(int)served.StatusCode} {await served.Content.ReadAsStringAsync()}");
        }

        var limited = await SendAsync(client, method, path, access, body);

        var problem = await ProblemAssert.IsProblemAsync(limited, HttpStatusCode.TooManyRequests);
        Assert.Contains("client", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(int.Parse(limited.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture) is > 0 and <= 60);
    }

    private static async Task<HttpResponseMessage> SendAsync(LoopbackClient client, string method, string path, string? accessToken, string? body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = body is null ? null : new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        };
        if (accessToken is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", accessToken);
        }
        return await client.Http.SendAsync(request);
    }
}
