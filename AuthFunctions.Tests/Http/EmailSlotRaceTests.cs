using System.Net;
using AuthFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// "At most one email per account and purpose per minute" under a burst: the minute's slot is claimed by a write
/// conditional on the account as read, in one transaction with the new link, so of 20 requests released together on
/// two instances exactly one issues a link and sends it, and that link is the one that works.
/// </summary>
public sealed class EmailSlotRaceTests(AppFixture fixture, ITestOutputHelper output) : AppTestBase(fixture)
{
    private const int Burst = 20;
    private const int Minutes = 4;

    /// <summary>The outbox's "held back" record (event 3006), which each request that lost the minute's slot leaves.</summary>
    private static int HeldBack(TestApp app, string userId) =>
        app.Logs.Entries.Count(log => log.EventId.Id == 3006 && log.Message.Contains(userId, StringComparison.Ordinal));

    /// <summary>
    /// Waits until every job of the burst is settled: each either was held back (a record on its instance) or sent a
    /// message; then the messages delivered to <paramref name="email"/>, oldest first.
    /// </summary>
    /// <param name="settledBefore">Messages delivered plus requests held back before the burst.</param>
    private static async Task<IReadOnlyList<DeliveredEmail>> AfterTheBurstAsync(string email, string userId, int settledBefore, params TestApp[] instances)
    {
        var maildev = await MailDevServer.Shared;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var messages = await maildev.MessagesToAsync(email);
            if (instances.Sum(app => HeldBack(app, userId)) + messages.Count - settledBefore >= Burst)
            {
                await Task.Delay(500); // a send still in flight would show now
                return await maildev.MessagesToAsync(email);
            }
            Assert.True(DateTime.UtcNow < deadline, $"the burst's jobs did not settle in 20 s ({messages.Count} delivered, {instances.Sum(app => HeldBack(app, userId))} held back in all)");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Four minutes, each with a burst of 20 resends released together over two instances: each minute sends exactly one
    /// email; the last one's link verifies the address, the one before it is dead.
    /// </summary>
    [Fact]
    public async Task TwentyResendsOnTwoInstancesSendOneEmailAMinuteAndItsLinkWorks()
    {
        var (email, tokens) = await App.NewUserAsync("slot-verify");
        string userId = TokenForge.Payload(tokens.Access)["sub"]!.GetValue<string>();
        await (await MailDevServer.Shared).WaitForMessageAsync(email);
        await using var other = await App.StartAnotherInstanceAsync();
        var sentPerMinute = new List<int>();
        IReadOnlyList<DeliveredEmail> messages = [];

        for (int minute = 0; minute < Minutes; minute++)
        {
            App.Clock.Advance(TimeSpan.FromSeconds(61)); // the previous email's minute is over: one slot is free
            int before = 1 + sentPerMinute.Sum();
            int heldBefore = HeldBack(App, userId) + HeldBack(other, userId);
            var race = await Race.RunAsync(Enumerable.Range(0, Burst).Select(i => Racer.Post((i % 2 == 0 ? App : other).BaseAddress, "/api/email/verify/send", null, tokens.Access)));
            messages = await AfterTheBurstAsync(email, userId, before + heldBefore, App, other);
            sentPerMinute.Add(messages.Count - before);

            Assert.True(race.MaxInFlight > 1, $"The requests did not overlap (at most {race.MaxInFlight} in flight).");
            Assert.All(race.Responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        }
        output.WriteLine($"{Burst} resends on two instances, {Minutes} minutes: verification emails sent per minute {string.Join(", ", sentPerMinute)}");

        Assert.All(sentPerMinute, sent => Assert.Equal(1, sent));
        await ProblemAssert.IsProblemAsync(await other.PostAsync("/api/email/verify", null, new { token = messages[^2].LinkToken("verify-email") }), HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.NoContent, (await other.PostAsync("/api/email/verify", null, new { token = messages[^1].LinkToken("verify-email") })).StatusCode);
    }

    /// <summary>Four minutes, each with a burst of 20 forgot requests over two instances: one reset email a minute, and its link resets the password.</summary>
    [Fact]
    public async Task TwentyForgotRequestsOnTwoInstancesSendOneResetEmailAMinuteAndItsLinkWorks()
    {
        var (email, tokens) = await App.NewUserAsync("slot-reset");
        string userId = TokenForge.Payload(tokens.Access)["sub"]!.GetValue<string>();
        await (await MailDevServer.Shared).WaitForMessageAsync(email); // the verification email: another purpose, another slot
        await using var other = await App.StartAnotherInstanceAsync();
        var sentPerMinute = new List<int>();
        var linksWorked = new List<bool>();

        for (int minute = 0; minute < Minutes; minute++)
        {
            int before = 1 + sentPerMinute.Sum();
            int heldBefore = HeldBack(App, userId) + HeldBack(other, userId);
            var race = await Race.RunAsync(Enumerable.Range(0, Burst).Select(i => Racer.Post((i % 2 == 0 ? App : other).BaseAddress, "/api/password/forgot", new { email })));
            var messages = await AfterTheBurstAsync(email, userId, before + heldBefore, App, other);
            sentPerMinute.Add(messages.Count - before);
            var reset = await App.PostAsync("/api/password/reset", null, new { token = messages[^1].LinkToken("reset-password"), new_password = $"reset in minute {minute} by a walrus on a bicycle" });
            linksWorked.Add(reset.StatusCode == HttpStatusCode.NoContent);

            Assert.True(race.MaxInFlight > 1, $"The requests did not overlap (at most {race.MaxInFlight} in flight).");
            Assert.All(race.Responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
            Assert.Equal("Reset your password", messages[^1].Subject);
            App.Clock.Advance(TimeSpan.FromSeconds(61));
        }
        output.WriteLine($"{Burst} forgot requests on two instances, {Minutes} minutes: reset emails sent per minute {string.Join(", ", sentPerMinute)}; newest link worked: {string.Join(", ", linksWorked)}");

        Assert.All(sentPerMinute, sent => Assert.Equal(1, sent));
        Assert.All(linksWorked, Assert.True);
        await App.LoginAsync(email, $"reset in minute {Minutes - 1} by a walrus on a bicycle");
    }
}
