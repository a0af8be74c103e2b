using System.Net;
using System.Net.Http.Json;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

public sealed class EmailVerificationTests(AppFixture fixture) : AppTestBase(fixture)
{
    private static async Task<DeliveredEmail> VerificationEmailAsync(string email, int count = 1) =>
        await (await MailDevServer.Shared).WaitForMessageAsync(email, count);

    private async Task<bool> EmailVerifiedAsync(string accessToken) =>
        (await ProblemAssert.JsonAsync(await App.GetAsync("/api/me", accessToken), HttpStatusCode.OK)).GetProperty("email_verified").GetBoolean();

    private Task<HttpResponseMessage> VerifyAsync(string? token) => App.PostAsync("/api/email/verify", null, new { token });

    [Fact]
    public async Task RegistrationEmailsALinkThatVerifiesTheAddress()
    {
        var (email, tokens) = await App.NewUserAsync();
        Assert.False(await EmailVerifiedAsync(tokens.Access));

        var message = await VerificationEmailAsync(email);
        Assert.Equal("Confirm your email address", message.Subject);
        Assert.StartsWith("https://app.example.test/verify-email?token=", message.Link("verify-email"), StringComparison.Ordinal);
        Assert.Contains("expires in 24 hours", message.Text, StringComparison.Ordinal);
        Assert.Contains("href=\"https://app.example.test/verify-email?token=", message.Html, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NoContent, (await VerifyAsync(message.LinkToken("verify-email"))).StatusCode);
        Assert.True(await EmailVerifiedAsync(tokens.Access));
    }

    /// <summary>256 random bits after the user id, and only a SHA-256 of the token in storage (ASVS 6.4.x / 7.2.x).</summary>
    [Fact]
    public async Task TheLinkTokenIsRandomAndStoredOnlyAsItsHash()
    {
        var (email, _) = await App.NewUserAsync();
        string token = (await VerificationEmailAsync(email)).LinkToken("verify-email");
        string secret = token[33..];

        Assert.Equal(43, secret.Length); // base64url of 32 bytes
        var rows = new List<Azure.Data.Tables.TableEntity>();
        await foreach (var row in App.Table("users").QueryAsync<Azure.Data.Tables.TableEntity>(TableFilter(token[..32])))
        {
            rows.Add(row);
        }
        var link = Assert.Single(rows, r => r.RowKey == "link-verify-email");
        Assert.Equal(System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token))), link.GetString("Hash"));
        Assert.DoesNotContain(rows.SelectMany(r => r.Select(column => column.Value)), value => value?.ToString()?.Contains(secret, StringComparison.Ordinal) == true);
    }

    private static string TableFilter(string userId) => Azure.Data.Tables.TableClient.CreateQueryFilter($"PartitionKey eq {userId}");

    [Fact]
    public async Task AVerificationLinkWorksOnce()
    {
        var (email, _) = await App.NewUserAsync();
        string token = (await VerificationEmailAsync(email)).LinkToken("verify-email");

        Assert.Equal(HttpStatusCode.NoContent, (await VerifyAsync(token)).StatusCode);
        await ProblemAssert.IsProblemAsync(await VerifyAsync(token), HttpStatusCode.BadRequest);
    }

    /// <summary>Six uses of one link at once on two instances: the delete conditional on the row read lets exactly one through.</summary>
    [Fact]
    public async Task ConcurrentUsesAcrossTwoInstancesHaveExactlyOneWinner()
    {
        var (email, _) = await App.NewUserAsync();
        string token = (await VerificationEmailAsync(email)).LinkToken("verify-email");
        await using var other = await App.StartAnotherInstanceAsync();
        using var conflicts = new WriteConflictRecorder(App, other);

        var race = await Race.RunAsync(Enumerable.Range(0, 6).Select(i => Racer.Post((i % 2 == 0 ? App : other).BaseAddress, "/api/email/verify", new { token })));
        var answers = race.Responses;

        // Uses that read the link before it was spent had their delete refused: uses one after another never are.
        Assert.True(conflicts.Count > 0, $"The uses never collided in storage (at most {race.MaxInFlight} in flight).");
        Assert.Equal(1, answers.Count(a => a.StatusCode == HttpStatusCode.NoContent));
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.NoContent), a => Assert.Equal(HttpStatusCode.BadRequest, a.StatusCode));
    }

    [Fact]
    public async Task ResendMailsANewLinkAndTheOlderOneDies()
    {
        var (email, tokens) = await App.NewUserAsync();
        string first = (await VerificationEmailAsync(email)).LinkToken("verify-email");

        App.Clock.Advance(TimeSpan.FromMinutes(1)); // past the one-email-a-minute cooldown
        var resend = await App.PostAsync("/api/email/verify/send", tokens.Access);
        Assert.Equal(HttpStatusCode.Accepted, resend.StatusCode);
        string second = (await VerificationEmailAsync(email, count: 2)).LinkToken("verify-email");

        Assert.NotEqual(first, second);
        await ProblemAssert.IsProblemAsync(await VerifyAsync(first), HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.NoContent, (await VerifyAsync(second)).StatusCode);
    }

    [Fact]
    public async Task AnExpiredVerificationLinkIsRefused()
    {
        var (email, tokens) = await App.NewUserAsync();
        string token = (await VerificationEmailAsync(email)).LinkToken("verify-email");

        App.Clock.Advance(TimeSpan.FromHours(24) + TimeSpan.FromMinutes(1));

        await ProblemAssert.IsProblemAsync(await VerifyAsync(token), HttpStatusCode.BadRequest);
        Assert.False(await EmailVerifiedAsync((await App.LoginAsync(email)).Access));
        _ = tokens;
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-a-token")]
    [InlineData("0123456789abcdef0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task MissingOrForeignTokensAreBadRequests(string? token)
    {
        var problem = await ProblemAssert.IsProblemAsync(await VerifyAsync(token), HttpStatusCode.BadRequest);
        if (string.IsNullOrEmpty(token))
        {
            Assert.Equal("token is required.", problem.GetProperty("detail").GetString());
        }
    }

    [Fact]
    public async Task SendingNeedsAnAccessToken() =>
        await ProblemAssert.IsInvalidTokenAsync(await App.PostAsync("/api/email/verify/send", null));

    /// <summary>Guessing links for an account is throttled per client like guessing its password (ASVS 6.3.1); the real link still redeems.</summary>
    [Fact]
    public async Task GuessedLinksForOneAccountAreThrottled()
    {
        var (email, tokens) = await App.NewUserAsync();
        string real = (await VerificationEmailAsync(email)).LinkToken("verify-email");
        string userId = real[..32];

        for (int i = 0; i < 5; i++)
        {
            await ProblemAssert.IsProblemAsync(await VerifyAsync(userId + "." + new string((char)('A' + i), 43)), HttpStatusCode.BadRequest);
        }
        var throttled = await VerifyAsync(userId + "." + new string('F', 43));

        await ProblemAssert.IsProblemAsync(throttled, HttpStatusCode.TooManyRequests);
        Assert.NotNull(throttled.Headers.RetryAfter);
        Assert.False(await EmailVerifiedAsync(tokens.Access));
        Assert.Equal(HttpStatusCode.NoContent, (await VerifyAsync(real)).StatusCode);
        Assert.True(await EmailVerifiedAsync(tokens.Access));
    }

    [Fact]
    public async Task NoTokenOrLinkEverReachesTheLogs()
    {
        var (email, tokens) = await App.NewUserAsync();
        var message = await VerificationEmailAsync(email);
        string token = message.LinkToken("verify-email");
        Assert.Equal(HttpStatusCode.NoContent, (await VerifyAsync(token)).StatusCode);
        await App.PostAsync("/api/email/verify/send", tokens.Access);

        Assert.Contains(App.Logs.Entries, log => log.Message.Contains("email-verification email", StringComparison.Ordinal));
        Assert.DoesNotContain(App.Logs.Entries, log => log.AllText.Contains(token[33..], StringComparison.Ordinal) || log.AllText.Contains("token=", StringComparison.Ordinal) || log.AllText.Contains(email, StringComparison.OrdinalIgnoreCase));
    }
}

/// <summary><c>Auth__RequireVerifiedEmail</c> on: a correct password of an unverified account gets a 403 the frontend recognizes.</summary>
public sealed class RequireVerifiedEmailTests(AppFixture fixture) : AppTestBase(fixture)
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Auth:RequireVerifiedEmail"] = "true" };

    [Fact]
    public async Task UnverifiedAccountsGetEmailNotVerifiedOnlyWithTheRightPassword()
    {
        string email = TestApp.UniqueEmail();
        Assert.Equal(HttpStatusCode.Created, (await App.RegisterAsync(email)).StatusCode);

        var wrong = await App.PostAsync("/api/login", null, new { email, password = "not the password" });
        var problem = await ProblemAssert.IsProblemAsync(await App.PostAsync("/api/login", null, new { email, password = TestApp.Password }), HttpStatusCode.Forbidden);

        await ProblemAssert.IsProblemAsync(wrong, HttpStatusCode.Unauthorized);
        Assert.Equal("https://authfunctions.dev/problems/email-not-verified", problem.GetProperty("type").GetString());

        string token = (await (await MailDevServer.Shared).WaitForMessageAsync(email)).LinkToken("verify-email");
        Assert.Equal(HttpStatusCode.NoContent, (await App.PostAsync("/api/email/verify", null, new { token })).StatusCode);
        await App.LoginAsync(email);
    }
}
