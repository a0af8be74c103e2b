using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using AuthFunctions.Tests.Infrastructure;
using AuthFunctions.Users;
using Azure;
using Azure.Data.Tables;

namespace AuthFunctions.Tests.Http;

public sealed class LoginTests(AppFixture fixture) : AppTestBase(fixture)
{
    [Fact]
    public async Task LoginReturnsBearerTokensThatAreNotCached()
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);

        var response = await App.Client.PostAsJsonAsync("/api/login", new { email, password = TestApp.Password });

        var json = await ProblemAssert.JsonAsync(response, HttpStatusCode.OK);
        Assert.Equal("Bearer", json.GetProperty("token_type").GetString());
        Assert.Equal(900, json.GetProperty("expires_in").GetInt32());
        Assert.Equal(30 * 24 * 3600, json.GetProperty("refresh_expires_in").GetInt32());
        Assert.Equal(3, json.GetProperty("access_token").GetString()!.Split('.').Length);
        Assert.True(json.GetProperty("refresh_token").GetString()!.Length >= 80);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    [Theory]
    [InlineData("username")]
    [InlineData("email")]
    public async Task LoginWithFormAcceptsUsernameOrEmail(string field)
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);
        var form = new FormUrlEncodedContent(new Dictionary<string, string> { [field] = email, ["password"] = TestApp.Password });

        var response = await App.Client.PostAsync("/api/login", form);

        var json = await ProblemAssert.JsonAsync(response, HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", json.GetProperty("access_token").GetString())).StatusCode);
    }

    [Fact]
    public async Task UnknownEmailAndWrongPasswordGetTheSameAnswer()
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);

        var wrongPassword = await App.Client.PostAsJsonAsync("/api/login", new { email, password = "wrong password!" });
        var unknownEmail = await App.Client.PostAsJsonAsync("/api/login", new { email = TestApp.UniqueEmail(), password = TestApp.Password });

        var first = await ProblemAssert.IsProblemAsync(wrongPassword, HttpStatusCode.Unauthorized);
        var second = await ProblemAssert.IsProblemAsync(unknownEmail, HttpStatusCode.Unauthorized);
        Assert.Equal(first.GetProperty("title").GetString(), second.GetProperty("title").GetString());
        Assert.Equal(first.GetProperty("detail").GetString(), second.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task UnknownEmailCostsOneHashAtTheConfiguredCostLikeAWrongPassword()
    {
        // Counting bcrypt work (not timing it) keeps this exact on a busy machine; the benchmark measures the time of one hash.
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);
        using var verifications = new PasswordVerificationRecorder(App);

        await App.Client.PostAsJsonAsync("/api/login", new { email = TestApp.UniqueEmail(), password = "wrong password!" });
        var unknownEmail = verifications.TakeCosts();
        await App.Client.PostAsJsonAsync("/api/login", new { email, password = "wrong password!" });
        var wrongPassword = verifications.TakeCosts();
        await App.Client.PostAsJsonAsync("/api/login", new { email = "not an address", password = "wrong password!" });
        var malformedEmail = verifications.TakeCosts();

        Assert.Equal([TestApp.BcryptCost], unknownEmail);
        Assert.Equal(wrongPassword, unknownEmail);
        Assert.Equal(wrongPassword, malformedEmail);
    }

    [Fact]
    public async Task LoginRecordsLastLoginTime()
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);
        App.Clock.Advance(TimeSpan.FromMinutes(3));
        var expected = App.Clock.GetUtcNow();

        var tokens = await App.LoginAsync(email);

        var me = await ProblemAssert.JsonAsync(await App.GetAsync("/api/me", tokens.Access), HttpStatusCode.OK);
        Assert.Equal(expected, DateTimeOffset.Parse(me.GetProperty("last_login_at").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task LoginUpgradesAHashBelowTheConfiguredCost()
    {
        string email = TestApp.UniqueEmail();
        var created = await ProblemAssert.JsonAsync(await App.RegisterAsync(email), HttpStatusCode.Created);
        string userId = created.GetProperty("id").GetString()!;
        var users = App.Table("users");
        var weak = new TableEntity(userId, "profile") { ["PasswordHash"] = BCrypt.Net.BCrypt.HashPassword(TestApp.Password, BCrypt.Net.BCrypt.GenerateSalt(4, 'b')) };
        await using var stronger = await App.StartAnotherInstanceAsync(new Dictionary<string, string?> { ["Auth:BcryptCost"] = "5" });
        await users.UpdateEntityAsync(weak, ETag.All, TableUpdateMode.Merge);

        await stronger.LoginAsync(email);

        var stored = await users.GetEntityAsync<TableEntity>(userId, "profile");
        Assert.StartsWith("$2b$05$", stored.Value.GetString("PasswordHash"), StringComparison.Ordinal);
        await stronger.LoginAsync(email);
    }

    [Fact]
    public async Task FlaskBcryptHashOfAMigratedUserLogsIn()
    {
        // A user migrated from the Flask seeds: Flask-Bcrypt wrote $2b$12$ (python3-bcrypt vector file).
        var vector = File.ReadLines(Path.Combine(AppContext.BaseDirectory, "TestData", "bcrypt-python3-bcrypt.tsv"))
            .First(line => line.Contains("Flask", StringComparison.Ordinal)).Split('\t');
        string password = Encoding.UTF8.GetString(Convert.FromHexString(vector[0]));
        string email = TestApp.UniqueEmail("flask");
        var created = await ProblemAssert.JsonAsync(await App.RegisterAsync(email), HttpStatusCode.Created);
        await App.Table("users").UpdateEntityAsync(
            new TableEntity(created.GetProperty("id").GetString()!, "profile") { ["PasswordHash"] = vector[1], ["PasswordNormalized"] = false },
            ETag.All, TableUpdateMode.Merge);

        await App.LoginAsync(email, password);
    }

    /// <summary>NIST SP 800-63B §5.1.1.2: the same password typed with a ligature, a decomposed accent or full-width letters is the same password.</summary>
    [Fact]
    public async Task PasswordsAreComparedInTheirNfkcForm()
    {
        string email = TestApp.UniqueEmail();
        Assert.Equal(HttpStatusCode.Created, (await App.RegisterAsync(email, "\uFB01ne cafe\u0301 password")).StatusCode);

        await App.LoginAsync(email, "fine caf\u00E9 password");
        await App.LoginAsync(email, "\uFF46\uFF49\uFF4E\uFF45 caf\u00E9 password");
    }

    [Fact]
    public async Task AHashMadeBeforeNormalizationLogsInAsTypedOnceAndIsThenStoredNormalized()
    {
        string email = TestApp.UniqueEmail("migrated");
        var created = await ProblemAssert.JsonAsync(await App.RegisterAsync(email), HttpStatusCode.Created);
        string userId = created.GetProperty("id").GetString()!;
        const string typed = "cafe\u0301 au lait password";
        var users = App.Table("users");
        await users.UpdateEntityAsync(new TableEntity(userId, "profile")
        {
            ["PasswordHash"] = BCrypt.Net.BCrypt.HashPassword(typed, BCrypt.Net.BCrypt.GenerateSalt(4, 'b')),
            ["PasswordNormalized"] = false,
        }, ETag.All, TableUpdateMode.Merge);
        using var verifications = new PasswordVerificationRecorder(App);

        await App.LoginAsync(email, typed);

        Assert.Single(verifications.TakeCosts());
        Assert.True((await users.GetEntityAsync<TableEntity>(userId, "profile")).Value.GetBoolean("PasswordNormalized"));
        await App.LoginAsync(email, "caf\u00E9 au lait password");
    }

    [Theory]
    [InlineData("""{"password":"correct horse battery"}""", "email")]
    [InlineData("""{"email":"","password":"correct horse battery"}""", "email")]
    [InlineData("""{"email":"x@example.com"}""", "password")]
    [InlineData("""{"email":"x@example.com","password":""}""", "password")]
    public async Task MissingFieldsAreValidationProblems(string body, string field)
    {
        var response = await App.Client.PostAsync("/api/login", new StringContent(body, Encoding.UTF8, "application/json"));
        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task AnOverlongEmailIsAnEmailErrorNotAPasswordError()
    {
        string email = new string('a', 600) + "@example.com";

        var response = await App.Client.PostAsJsonAsync("/api/login", new { email, password = TestApp.Password });

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("email", out _), errors.ToString());
        Assert.False(errors.TryGetProperty("password", out _), errors.ToString());
        Assert.DoesNotContain("aaaa", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OverlongPasswordIsRefusedNotTruncated()
    {
        string email = TestApp.UniqueEmail();
        string password = new('p', 72);
        await App.RegisterAsync(email, password);

        var response = await App.Client.PostAsJsonAsync("/api/login", new { email, password = password + "extra" });

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
    }
}
