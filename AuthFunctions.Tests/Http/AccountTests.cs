using System.Net;
using System.Net.Http.Json;
using AuthFunctions.Tests.Infrastructure;
using Azure.Data.Tables;

namespace AuthFunctions.Tests.Http;

/// <summary>PATCH and DELETE /api/me: edit the profile, delete the account.</summary>
public sealed class AccountTests(AppFixture fixture) : AppTestBase(fixture)
{
    private Task<HttpResponseMessage> DeleteAsync(string accessToken, string? password, TestApp? app = null) =>
        (app ?? App).SendAsync(HttpMethod.Delete, "/api/me", accessToken, JsonContent.Create(new { password }));

    private static Racer DeleteRacer(TestApp app, string accessToken) => new(app.BaseAddress, () =>
    {
        var request = new HttpRequestMessage(HttpMethod.Delete, "/api/me") { Content = JsonContent.Create(new { password = TestApp.Password }) };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", accessToken);
        return request;
    });

    [Fact]
    public async Task PatchChangesTheFullNameAndAnswersWithTheProfile()
    {
        var (email, tokens) = await App.NewUserAsync();

        var response = await App.SendAsync(HttpMethod.Patch, "/api/me", tokens.Access, JsonContent.Create(new { full_name = "  Ada Lovelace " }));

        var body = await ProblemAssert.JsonAsync(response, HttpStatusCode.OK);
        Assert.Equal("Ada Lovelace", body.GetProperty("full_name").GetString());
        Assert.Equal(email, body.GetProperty("email").GetString());
        Assert.False(body.GetProperty("email_verified").GetBoolean());
        var me = await ProblemAssert.JsonAsync(await App.GetAsync("/api/me", tokens.Access), HttpStatusCode.OK);
        Assert.Equal("Ada Lovelace", me.GetProperty("full_name").GetString());
    }

    [Fact]
    public async Task PatchRefusesATooLongNameAndNeedsAToken()
    {
        var (_, tokens) = await App.NewUserAsync();

        var problem = await ProblemAssert.IsProblemAsync(
            await App.SendAsync(HttpMethod.Patch, "/api/me", tokens.Access, JsonContent.Create(new { full_name = new string('x', 1000) })), HttpStatusCode.BadRequest);

        Assert.True(problem.GetProperty("errors").TryGetProperty("full_name", out _));
        await ProblemAssert.IsInvalidTokenAsync(await App.SendAsync(HttpMethod.Patch, "/api/me", null, JsonContent.Create(new { full_name = "x" })));
    }

    [Fact]
    public async Task DeleteRemovesTheAccountItsSessionsLinksAndCountersAndFreesTheEmail()
    {
        var (email, tokens) = await App.NewUserAsync();
        var other = await App.LoginAsync(email);
        string userId = (await ProblemAssert.JsonAsync(await App.GetAsync("/api/me", tokens.Access), HttpStatusCode.OK)).GetProperty("id").GetString()!;
        await ProblemAssert.IsProblemAsync(await App.PostAsync("/api/login", null, new { email, password = "a wrong password" }), HttpStatusCode.Unauthorized);
        var maildev = await MailDevServer.Shared;
        string verifyToken = (await maildev.WaitForMessageAsync(email)).LinkToken("verify-email");
        Assert.Equal(HttpStatusCode.Accepted, (await App.PostAsync("/api/password/forgot", null, new { email })).StatusCode);
        string resetToken = (await maildev.WaitForMessageAsync(email, count: 2)).LinkToken("reset-password");

        Assert.Equal(HttpStatusCode.NoContent, (await DeleteAsync(tokens.Access, TestApp.Password)).StatusCode);

        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/me", tokens.Access));
        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/me", other.Access));
        await ProblemAssert.IsProblemAsync(await App.RefreshAsync(other.Refresh), HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblemAsync(await App.PostAsync("/api/email/verify", null, new { token = verifyToken }), HttpStatusCode.BadRequest);
        await ProblemAssert.IsProblemAsync(await App.PostAsync("/api/password/reset", null, new { token = resetToken, new_password = "taking over a dead account" }), HttpStatusCode.BadRequest);
        Assert.Empty(await RowsAsync("users", userId));
        Assert.Empty(await RowsAsync("emails", EncodedKey(email)));
        await ProblemAssert.IsProblemAsync(await App.PostAsync("/api/login", null, new { email, password = TestApp.Password }), HttpStatusCode.Unauthorized);

        Assert.Equal(HttpStatusCode.Created, (await App.RegisterAsync(email, "the new owner's password")).StatusCode);
        await App.LoginAsync(email, "the new owner's password");
    }

    [Fact]
    public async Task DeleteWithTheWrongPasswordChangesNothing()
    {
        var (email, tokens) = await App.NewUserAsync();

        await ProblemAssert.IsProblemAsync(await DeleteAsync(tokens.Access, "not my password"), HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblemAsync(await DeleteAsync(tokens.Access, null), HttpStatusCode.BadRequest);

        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/me", tokens.Access)).StatusCode);
        await App.LoginAsync(email);
    }

    /// <summary>Deleting on one instance while another serves the account's sessions: both end, concurrent deletions both succeed, nothing is left.</summary>
    [Fact]
    public async Task ConcurrentDeletionsOnTwoInstancesLeaveNothingUsable()
    {
        var (email, tokens) = await App.NewUserAsync();
        await using var other = await App.StartAnotherInstanceAsync();
        var elsewhere = await other.LoginAsync(email);

        var race = await Race.RunAsync([DeleteRacer(App, tokens.Access), DeleteRacer(other, elsewhere.Access)]);
        var answers = race.Responses;

        Assert.True(race.MaxInFlight > 1, $"The deletions did not overlap (at most {race.MaxInFlight} in flight).");
        Assert.Contains(answers, a => a.StatusCode == HttpStatusCode.NoContent);
        Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.Unauthorized, a.StatusCode.ToString()));
        await ProblemAssert.IsInvalidTokenAsync(await other.GetAsync("/api/me", elsewhere.Access));
        await ProblemAssert.IsProblemAsync(await other.RefreshAsync(elsewhere.Refresh), HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblemAsync(await App.PostAsync("/api/login", null, new { email, password = TestApp.Password }), HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.Created, (await other.RegisterAsync(email)).StatusCode);
    }

    private async Task<List<string>> RowsAsync(string table, string partitionKey)
    {
        var rows = new List<string>();
        await foreach (var row in App.Table(table).QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey}")))
        {
            rows.Add(row.RowKey);
        }
        return rows;
    }

    private static string EncodedKey(string email) => AuthFunctions.Storage.TableKey.Encode(email);
}
