using System.Net;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

public sealed class LoggingTests : AppTestBase
{
    [Fact]
    public async Task AFullFlowLogsEveryAuthEventAndNoSecret()
    {
        const string newPassword = "a fresh passphrase 42";
        string email = TestApp.UniqueEmail("logged");
        await App.RegisterAsync(email);
        await App.PostAsync("/api/login", null, new { email, password = "wrong password 123" });
        var login = await App.LoginAsync(email);
        await App.GetAsync("/api/protected", login.Access);
        var refreshed = await ProblemAssert.JsonAsync(await App.RefreshAsync(login.Refresh), HttpStatusCode.OK);
        string rotatedRefresh = refreshed.GetProperty("refresh_token").GetString()!;
        string rotatedAccess = refreshed.GetProperty("access_token").GetString()!;
        App.Clock.Advance(TimeSpan.FromSeconds(10));
        await App.RefreshAsync(login.Refresh); // reuse of a spent token
        var second = await App.LoginAsync(email);
        await App.PostAsync("/api/password", second.Access, new { current_password = TestApp.Password, new_password = newPassword });
        await App.PostAsync("/api/logout", second.Access);

        var entries = App.Logs.Entries.ToList();
        string everything = string.Join("\n", entries.Select(e => e.AllText));
        var secrets = new[]
        {
            TestApp.Password, newPassword, "wrong password 123",
            login.Access, login.Refresh, rotatedRefresh, rotatedAccess, second.Access, second.Refresh,
            login.Access.Split('.')[2], login.Refresh.Split('.')[2], rotatedRefresh.Split('.')[2],
            Convert.ToBase64String(App.SigningKey), "$2b$",
            email,
        };
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
        }

        string userId = (string)TokenForge.Payload(login.Access)["sub"]!;
        // Registered, login succeeded, login failed, logged out, refresh, password changed: each with user id and client address.
        foreach (var eventId in new[] { 1001, 1002, 1003, 1004, 1005, 1006 })
        {
            var entry = entries.FirstOrDefault(e => e.EventId.Id == eventId && e.State.GetValueOrDefault("UserId") == userId);
            Assert.True(entry is not null, $"no event {eventId} for the user");
            Assert.Equal("127.0.0.1", entry.State["ClientAddress"]);
        }
        Assert.Contains(entries, e => e.EventId.Name == "RefreshTokenReuse" && e.State.GetValueOrDefault("UserId") == userId);
    }
}
