using System.Net;
using System.Security.Cryptography;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// Email links are 256-bit secrets: a valid link always redeems, whoever failed before. Failed redemptions are counted
/// per client (its address, as the host saw it) and account, never in a pool the owner shares with everyone who
/// knows the user id every link carries; a client past its free attempts gets 429 for its invalid links.
/// </summary>
public sealed class LinkRedemptionThrottleTests(AppFixture fixture) : AppTestBase(fixture)
{
    private const string NewPassword = "reset by the owner's link";

    private static string Bogus(string userId) => $"{userId}.{System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32))}";

    /// <summary>Registers, asks for a reset; the account's id and its verification and reset link tokens.</summary>
    private async Task<(string Email, string UserId, string VerifyToken, string ResetToken)> OwnerAsync()
    {
        var (email, tokens) = await App.NewUserAsync("links");
        var maildev = await MailDevServer.Shared;
        string verify = (await maildev.WaitForMessageAsync(email)).LinkToken("verify-email");
        Assert.Equal(HttpStatusCode.Accepted, (await App.PostAsync("/api/password/forgot", null, new { email })).StatusCode);
        string reset = (await maildev.WaitForMessageAsync(email, count: 2)).LinkToken("reset-password");
        return (email, TokenForge.Payload(tokens.Access)["sub"]!.GetValue<string>(), verify, reset);
    }

    private static Racer VerifyFrom(IPAddress source, TestApp app, string token) =>
        Racer.Post(app.BaseAddress, "/api/email/verify", new { token }) with { Source = source };

    private static Racer ResetFrom(IPAddress source, TestApp app, string token) =>
        Racer.Post(app.BaseAddress, "/api/password/reset", new { token, new_password = NewPassword }) with { Source = source };

    /// <summary>
    /// A stranger floods bogus tokens for the owner's id from one address over two instances, released together: five
    /// are checked (400), the rest get 429; the owner's verification link then redeems, and so does the reset link,
    /// even sent from the stranger's own (throttled) address.
    /// </summary>
    [Fact]
    public async Task AStrangersBogusLinksCannotBlockTheOwnersLinks()
    {
        var (email, userId, verify, reset) = await OwnerAsync();
        await using var other = await App.StartAnotherInstanceAsync();
        using var stranger = LoopbackClient.Create(App.BaseAddress);

        var flood = await Race.RunAsync(Enumerable.Range(0, 12).Select(i => VerifyFrom(stranger.Address, i % 2 == 0 ? App : other, Bogus(userId))));

        Assert.True(flood.MaxInFlight > 1, $"The stranger's requests did not overlap (at most {flood.MaxInFlight} in flight).");
        Assert.Equal(5, flood.Responses.Count(r => r.StatusCode == HttpStatusCode.BadRequest));
        foreach (var refused in flood.Responses.Where(r => r.StatusCode != HttpStatusCode.BadRequest))
        {
            await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.TooManyRequests);
            Assert.NotNull(refused.Headers.RetryAfter);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await App.PostAsync("/api/email/verify", null, new { token = verify })).StatusCode);
        var resetFlood = await Race.RunAsync(Enumerable.Range(0, 6).Select(i => ResetFrom(stranger.Address, i % 2 == 0 ? App : other, Bogus(userId))));
        Assert.All(resetFlood.Responses, r => Assert.Equal(HttpStatusCode.TooManyRequests, r.StatusCode));
        var fromStranger = await Race.RunAsync([ResetFrom(stranger.Address, other, reset)]);
        Assert.Equal(HttpStatusCode.NoContent, fromStranger.Responses[0].StatusCode);

        var signedIn = await App.LoginAsync(email, NewPassword);
        Assert.True((await ProblemAssert.JsonAsync(await App.GetAsync("/api/me", signedIn.Access), HttpStatusCode.OK)).GetProperty("email_verified").GetBoolean());
    }

    /// <summary>
    /// README: guessing reset links is throttled per client. Five wrong links from one client are checked, the sixth gets
    /// 429 with Retry-After, and after that delay one more is checked before the next, longer, delay; another client's
    /// wrong link is still checked, and the owner's link works throughout.
    /// </summary>
    [Fact]
    public async Task GuessingResetLinksIsThrottledPerClient()
    {
        var (email, userId, _, reset) = await OwnerAsync();
        using var guesser = LoopbackClient.Create(App.BaseAddress);
        using var bystander = LoopbackClient.Create(App.BaseAddress);
        Task<HttpResponseMessage> Guess(LoopbackClient client) => client.PostAsync("/api/password/reset", new { token = Bogus(userId), new_password = NewPassword });

        for (int i = 0; i < 5; i++)
        {
            await ProblemAssert.IsProblemAsync(await Guess(guesser), HttpStatusCode.BadRequest);
        }
        var throttled = await Guess(guesser);
        await ProblemAssert.IsProblemAsync(throttled, HttpStatusCode.TooManyRequests);
        var retryAfter = throttled.Headers.RetryAfter!.Delta!.Value;
        await ProblemAssert.IsProblemAsync(await Guess(bystander), HttpStatusCode.BadRequest);

        App.Clock.Advance(retryAfter + TimeSpan.FromSeconds(1));
        await ProblemAssert.IsProblemAsync(await Guess(guesser), HttpStatusCode.BadRequest);
        var longer = await Guess(guesser);
        await ProblemAssert.IsProblemAsync(longer, HttpStatusCode.TooManyRequests);
        Assert.True(longer.Headers.RetryAfter!.Delta > retryAfter, $"the next delay ({longer.Headers.RetryAfter.Delta}) is not longer than {retryAfter}");

        Assert.Equal(HttpStatusCode.NoContent, (await App.PostAsync("/api/password/reset", null, new { token = reset, new_password = NewPassword })).StatusCode);
        await App.LoginAsync(email, NewPassword);
    }
}
