using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using AuthFunctions.Email;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

public sealed class PasswordResetTests(AppFixture fixture) : AppTestBase(fixture)
{
    private const string NewPassword = "a fresh reset passphrase";

    private Task<HttpResponseMessage> ForgotAsync(string email) => App.PostAsync("/api/password/forgot", null, new { email });

    private Task<HttpResponseMessage> ResetAsync(string token, string newPassword = NewPassword, TestApp? app = null) =>
        (app ?? App).PostAsync("/api/password/reset", null, new { token, new_password = newPassword });

    /// <summary>Registers, asks for a reset and returns the token of the reset link (the verification email comes first).</summary>
    private async Task<(string Email, TokenPair Tokens, string ResetToken)> ForgottenAsync()
    {
        var (email, tokens) = await App.NewUserAsync();
        var maildev = await MailDevServer.Shared;
        await maildev.WaitForMessageAsync(email);
        Assert.Equal(HttpStatusCode.Accepted, (await ForgotAsync(email)).StatusCode);
        var message = await maildev.WaitForMessageAsync(email, count: 2);
        Assert.Equal("Reset your password", message.Subject);
        return (email, tokens, message.LinkToken("reset-password"));
    }

    [Fact]
    public async Task TheEmailedLinkSetsANewPasswordAndEndsEverySession()
    {
        var (email, tokens, token) = await ForgottenAsync();
        var other = await App.LoginAsync(email);

        Assert.Equal(HttpStatusCode.NoContent, (await ResetAsync(token)).StatusCode);

        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/me", tokens.Access));
        await ProblemAssert.IsProblemAsync(await App.RefreshAsync(other.Refresh), HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblemAsync(await App.PostAsync("/api/login", null, new { email, password = TestApp.Password }), HttpStatusCode.Unauthorized);
        await App.LoginAsync(email, NewPassword);
    }

    [Fact]
    public async Task TheLinkSaysWhereItGoesAndWhenItExpires()
    {
        var (email, _, token) = await ForgottenAsync();
        var message = (await (await MailDevServer.Shared).MessagesToAsync(email))[^1];

        Assert.Equal($"https://app.example.test/reset-password?token={token}", message.Link("reset-password"));
        Assert.Contains("expires in 30 minutes", message.Text, StringComparison.Ordinal);
        Assert.Contains("href=\"https://app.example.test/reset-password?token=", message.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALinkWorksOnce()
    {
        var (email, _, token) = await ForgottenAsync();

        Assert.Equal(HttpStatusCode.NoContent, (await ResetAsync(token)).StatusCode);
        await ProblemAssert.IsProblemAsync(await ResetAsync(token, "yet another passphrase"), HttpStatusCode.BadRequest);
        await App.LoginAsync(email, NewPassword);
    }

    [Fact]
    public async Task ANewerRequestKillsTheOlderLink()
    {
        var (email, _, first) = await ForgottenAsync();
        App.Clock.Advance(TimeSpan.FromMinutes(1)); // past the one-email-a-minute cooldown
        Assert.Equal(HttpStatusCode.Accepted, (await ForgotAsync(email)).StatusCode);
        string second = (await (await MailDevServer.Shared).WaitForMessageAsync(email, count: 3)).LinkToken("reset-password");

        await ProblemAssert.IsProblemAsync(await ResetAsync(first), HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.NoContent, (await ResetAsync(second)).StatusCode);
    }

    /// <summary>Asking again within a minute sends nothing more (no mail bombing of an address) and keeps the link that was sent.</summary>
    [Fact]
    public async Task RepeatedRequestsWithinAMinuteSendOneEmail()
    {
        var (email, _, token) = await ForgottenAsync();

        Assert.Equal(HttpStatusCode.Accepted, (await ForgotAsync(email)).StatusCode);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!App.Logs.Entries.Any(log => log.EventId.Id == 3006))
        {
            Assert.True(DateTime.UtcNow < deadline, "the second request was not held back");
            await Task.Delay(50);
        }

        Assert.Equal(2, (await (await MailDevServer.Shared).MessagesToAsync(email)).Count); // verification + one reset
        Assert.Equal(HttpStatusCode.NoContent, (await ResetAsync(token)).StatusCode);
    }

    [Fact]
    public async Task APasswordChangeKillsTheLink()
    {
        var (email, tokens, token) = await ForgottenAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await App.PostAsync("/api/password", tokens.Access, new { current_password = TestApp.Password, new_password = "changed the usual way" })).StatusCode);

        await ProblemAssert.IsProblemAsync(await ResetAsync(token), HttpStatusCode.BadRequest);
        await App.LoginAsync(email, "changed the usual way");
    }

    [Fact]
    public async Task ALinkExpiresAfterThirtyMinutes()
    {
        var (email, _, token) = await ForgottenAsync();
        App.Clock.Advance(TimeSpan.FromMinutes(31));

        await ProblemAssert.IsProblemAsync(await ResetAsync(token), HttpStatusCode.BadRequest);
        await App.LoginAsync(email);
    }

    [Fact]
    public async Task AWeakNewPasswordIsAValidationProblemAndKeepsTheLink()
    {
        var (_, _, token) = await ForgottenAsync();

        var problem = await ProblemAssert.IsProblemAsync(await ResetAsync(token, "short"), HttpStatusCode.BadRequest);

        Assert.True(problem.GetProperty("errors").TryGetProperty("password", out _));
        Assert.Equal(HttpStatusCode.NoContent, (await ResetAsync(token)).StatusCode);
    }

    /// <summary>
    /// Six uses of one link at once on two instances: the conditional delete lets exactly one through; the others that
    /// read the link before it was spent had their delete refused (write conflicts, which uses one after another never cause).
    /// </summary>
    [Fact]
    public async Task ConcurrentUsesAcrossTwoInstancesHaveExactlyOneWinner()
    {
        var (email, _, token) = await ForgottenAsync();
        await using var other = await App.StartAnotherInstanceAsync();
        string[] candidates = [.. Enumerable.Range(0, 6).Select(i => $"{NewPassword} number {i}")];
        using var conflicts = new WriteConflictRecorder(App, other);

        var race = await Race.RunAsync(candidates.Select((candidate, i) =>
            Racer.Post((i % 2 == 0 ? App : other).BaseAddress, "/api/password/reset", new { token, new_password = candidate })));
        var answers = race.Responses;

        Assert.True(conflicts.Count > 0, $"The uses never collided in storage (at most {race.MaxInFlight} in flight).");
        Assert.Equal(1, answers.Count(a => a.StatusCode == HttpStatusCode.NoContent));
        foreach (var loser in answers.Where(a => a.StatusCode != HttpStatusCode.NoContent))
        {
            await ProblemAssert.IsProblemAsync(loser, HttpStatusCode.BadRequest);
        }
        await App.LoginAsync(email, candidates[Array.FindIndex(answers, a => a.StatusCode == HttpStatusCode.NoContent)]);
    }

    /// <summary>
    /// No enumeration (ASVS 6.3.8): the same status, headers and body, and the same work on the request's path (no
    /// password hashing, one queued job each), whether or not an account has the address.
    /// </summary>
    [Fact]
    public async Task KnownAndUnknownAddressesGetTheSameAnswerAndTheSameWork()
    {
        var (known, _) = await App.NewUserAsync();
        string unknown = TestApp.UniqueEmail("nobody");
        using var verifications = new PasswordVerificationRecorder(App);
        using var queued = new AppCounterRecorder(App, EmailOutbox.QueuedInstrument);

        var forKnown = await ForgotAsync(known);
        var knownWork = (verifications.TakeCosts().Length, queued.Take());
        var forUnknown = await ForgotAsync(unknown);
        var unknownWork = (verifications.TakeCosts().Length, queued.Take());

        Assert.Equal(HttpStatusCode.Accepted, forKnown.StatusCode);
        Assert.Equal(forKnown.StatusCode, forUnknown.StatusCode);
        Assert.Equal(await forKnown.Content.ReadAsStringAsync(), await forUnknown.Content.ReadAsStringAsync());
        Assert.Equal(forKnown.Content.Headers.ContentType, forUnknown.Content.Headers.ContentType);
        Assert.Equal(forKnown.Headers.Location, forUnknown.Headers.Location);
        Assert.Equal((0, 1), knownWork);
        Assert.Equal(knownWork, unknownWork);
        await (await MailDevServer.Shared).WaitForMessageAsync(known, count: 2);
        Assert.Empty(await (await MailDevServer.Shared).MessagesToAsync(unknown));
    }

    [Fact]
    public async Task NoTokenOrLinkEverReachesTheLogs()
    {
        var (email, _, token) = await ForgottenAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await ResetAsync(token)).StatusCode);

        Assert.Contains(App.Logs.Entries, log => log.Message.Contains("password-reset email", StringComparison.Ordinal));
        Assert.DoesNotContain(App.Logs.Entries, log => log.AllText.Contains(token[33..], StringComparison.Ordinal) || log.AllText.Contains("token=", StringComparison.Ordinal) || log.AllText.Contains(email, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task ForgotNeedsAWellFormedEmail()
    {
        var problem = await ProblemAssert.IsProblemAsync(await App.PostAsync("/api/password/forgot", null, new { email = "" }), HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("email", out _));
    }
}

/// <summary>No Email__SmtpHost: the app warns once at start and every function answers as usual; nothing is sent.</summary>
public sealed class EmailOffTests(AppFixture fixture) : AppTestBase(fixture)
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Email:SmtpHost"] = "" };

    [Fact]
    public async Task FunctionsAnswerAsUsualAndTheStartWarns()
    {
        var (email, tokens) = await App.NewUserAsync();

        Assert.Equal(HttpStatusCode.Accepted, (await App.PostAsync("/api/password/forgot", null, new { email })).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await App.PostAsync("/api/email/verify/send", tokens.Access)).StatusCode);
        Assert.Single(App.Logs.Entries, log => log.EventId.Id == 3004 && log.Level == LogLevel.Warning);
        // Each job logs that it skipped its email once it has composed it, so nothing of it can still be on its way.
        await App.Logs.WaitForAsync(log => log.EventId.Id == 3005 && log.Message.Contains("password-reset", StringComparison.Ordinal));
        await App.Logs.WaitForAsync(log => log.EventId.Id == 3005 && log.Message.Contains("email-verification", StringComparison.Ordinal));
        Assert.Empty(await (await MailDevServer.Shared).MessagesToAsync(email));
    }
}

/// <summary>An SMTP server that accepts connections and never answers: requests must neither wait for it nor fail.</summary>
public sealed class UnresponsiveSmtpTests : IAsyncLifetime
{
    private readonly TcpListener _silent = new(IPAddress.Loopback, 0);
    private readonly ConcurrentBag<TcpClient> _held = [];
    private TestApp? _app;

    private TestApp App => _app!;

    public async Task InitializeAsync()
    {
        _silent.Start();
        _ = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    _held.Add(await _silent.AcceptTcpClientAsync());
                }
            }
            catch (ObjectDisposedException)
            {
            }
            catch (SocketException)
            {
            }
        });
        _app = await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["Email:SmtpPort"] = ((IPEndPoint)_silent.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Email:TimeoutSeconds"] = "4",
        });
    }

    [Fact]
    public async Task RegisterAndForgotAnswerAtOnceAndTheFailedSendIsLoggedWithoutTheAddress()
    {
        string email = TestApp.UniqueEmail();
        var timer = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.Created, (await App.RegisterAsync(email)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await App.PostAsync("/api/password/forgot", null, new { email })).StatusCode);
        var answered = timer.Elapsed;

        // Both requests together took less than one delivery's timeout: neither waited for the server.
        Assert.True(answered < TimeSpan.FromSeconds(4), $"the requests took {answered.TotalMilliseconds} ms");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (App.Logs.Entries.Count(log => log.EventId.Id == 3002) < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "the failed sends were not logged");
            await Task.Delay(100);
        }
        Assert.DoesNotContain(App.Logs.Entries, log => log.AllText.Contains(email, StringComparison.OrdinalIgnoreCase) || log.AllText.Contains("token=", StringComparison.Ordinal));
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
        _silent.Stop();
        foreach (var client in _held)
        {
            client.Dispose();
        }
    }
}
