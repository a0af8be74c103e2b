using System.Net;
using System.Net.Http.Json;
using System.Text;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

public sealed class RegisterTests(AppFixture fixture) : AppTestBase(fixture)
{
    [Fact]
    public async Task RegisterWithJsonCreatesUserAndReturnsContractBody()
    {
        string email = TestApp.UniqueEmail();

        var response = await App.RegisterAsync(email, fullName: "Ada Lovelace");

        var json = await ProblemAssert.JsonAsync(response, HttpStatusCode.Created);
        Assert.Equal(32, json.GetProperty("id").GetString()!.Length);
        Assert.Equal(email, json.GetProperty("email").GetString());
        Assert.Equal("Ada Lovelace", json.GetProperty("full_name").GetString());
        Assert.True(DateTimeOffset.TryParse(json.GetProperty("created_at").GetString(), out _));
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.DoesNotContain("password", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task RegisterWithFormWorks()
    {
        string email = TestApp.UniqueEmail();
        var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["email"] = email, ["password"] = TestApp.Password });

        var response = await App.Client.PostAsync("/api/register", form);

        var json = await ProblemAssert.JsonAsync(response, HttpStatusCode.Created);
        Assert.Equal(JsonValueKindNull, json.GetProperty("full_name").ValueKind);
        await App.LoginAsync(email);
    }

    private const System.Text.Json.JsonValueKind JsonValueKindNull = System.Text.Json.JsonValueKind.Null;

    [Fact]
    public async Task EmailIsTrimmedNormalizedAndCaseInsensitive()
    {
        string local = "Mixed.Case-" + Guid.NewGuid().ToString("N");
        // "é" composed (U+00E9) at registration, decomposed (e + U+0301) at login.
        var response = await App.RegisterAsync($"  {local}@Ex\u00E9mple.COM \t");
        var json = await ProblemAssert.JsonAsync(response, HttpStatusCode.Created);

        Assert.Equal($"{local.ToLowerInvariant()}@ex\u00E9mple.com", json.GetProperty("email").GetString());
        await App.LoginAsync($"{local.ToUpperInvariant()}@EXe\u0301MPLE.com");
        await ProblemAssert.IsProblemAsync(await App.RegisterAsync($"{local.ToUpperInvariant()}@exe\u0301mple.com"), HttpStatusCode.Conflict);
    }

    private static string Fullwidth(string ascii) =>
        string.Concat(ascii.Select(c => c is > ' ' and <= '~' ? (char)(c + 0xFEE0) : c));

    [Fact]
    public async Task AFullwidthSpellingIsTheSameAccount()
    {
        string email = TestApp.UniqueEmail("ada");
        await ProblemAssert.JsonAsync(await App.RegisterAsync(email), HttpStatusCode.Created);
        string lookalike = Fullwidth(email.ToUpperInvariant());

        await ProblemAssert.IsProblemAsync(await App.RegisterAsync(lookalike), HttpStatusCode.Conflict);
        var tokens = await App.LoginAsync(lookalike);
        var me = await ProblemAssert.JsonAsync(await App.GetAsync("/api/me", tokens.Access), HttpStatusCode.OK);
        Assert.Equal(email, me.GetProperty("email").GetString());
    }

    [Theory]
    [InlineData("\u200B")] // zero-width space
    [InlineData("\u200D")] // zero-width joiner
    [InlineData("\u2060")] // word joiner
    [InlineData("\u00AD")] // soft hyphen
    [InlineData("\u202E")] // right-to-left override
    [InlineData("\uFE0F")] // variation selector
    [InlineData("\U000E0041")] // tag letter
    public async Task InvisibleCodePointsInAnEmailAreRefused(string invisible)
    {
        string email = TestApp.UniqueEmail("ada");
        await ProblemAssert.JsonAsync(await App.RegisterAsync(email), HttpStatusCode.Created);
        string lookalike = email.Insert(2, invisible);

        var refused = await ProblemAssert.IsProblemAsync(await App.RegisterAsync(lookalike), HttpStatusCode.BadRequest);

        string message = refused.GetProperty("errors").GetProperty("email")[0].GetString()!;
        Assert.DoesNotContain(invisible, message, StringComparison.Ordinal);
        Assert.DoesNotContain("ada", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\u202E")] // right-to-left override
    [InlineData("\u2066")] // left-to-right isolate
    [InlineData("\u200B")] // zero-width space
    [InlineData("\u115F")] // Hangul choseong filler
    public async Task InvisibleOrDirectionCodePointsInANameAreRefused(string invisible)
    {
        var refused = await ProblemAssert.IsProblemAsync(await App.RegisterAsync(TestApp.UniqueEmail(), fullName: $"Ada {invisible}ecalevoL"), HttpStatusCode.BadRequest);

        string message = refused.GetProperty("errors").GetProperty("full_name")[0].GetString()!;
        Assert.DoesNotContain("ecalevoL", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("slash/in/local")]
    [InlineData(@"back\slash")]
    [InlineData("hash#tag")]
    [InlineData("question?mark")]
    [InlineData("o'reilly")]
    [InlineData("percent%41")]
    [InlineData("ünïcødé")]
    public async Task CharactersTableKeysForbidWorkInEmails(string local)
    {
        string email = $"{local}-{Guid.NewGuid():N}@example.com";

        await ProblemAssert.JsonAsync(await App.RegisterAsync(email), HttpStatusCode.Created);
        var tokens = await App.LoginAsync(email);
        var me = await ProblemAssert.JsonAsync(await App.GetAsync("/api/me", tokens.Access), HttpStatusCode.OK);

        Assert.Equal(email, me.GetProperty("email").GetString());
        await ProblemAssert.IsProblemAsync(await App.RegisterAsync(email), HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task DuplicateEmailIsConflictAndStoresNothingMore()
    {
        string email = TestApp.UniqueEmail();
        await App.RegisterAsync(email);
        await (await MailDevServer.Shared).WaitForMessageAsync(email); // its verification link row is written by then
        int before = await App.CountEntitiesAsync();

        await ProblemAssert.IsProblemAsync(await App.RegisterAsync(email, "another registration attempt"), HttpStatusCode.Conflict);

        Assert.Equal(before, await App.CountEntitiesAsync());
        await App.LoginAsync(email); // the original password still works
    }

    [Fact]
    public async Task FiftyConcurrentRegistrationsOfOneEmailInAnyCaseHaveExactlyOneWinner()
    {
        string local = "race-" + Guid.NewGuid().ToString("N");
        int rowsBefore = await App.CountEntitiesAsync();
        await using var other = await App.StartAnotherInstanceAsync();
        var attempts = Enumerable.Range(0, 50).Select(i => Racer.Post((i % 4 < 2 ? App : other).BaseAddress, "/api/register",
            new { email = i % 2 == 0 ? $"{local}@example.com" : $"{local.ToUpperInvariant()}@EXAMPLE.COM", password = TestApp.Password }));

        var race = await Race.RunAsync(attempts);
        var responses = race.Responses;

        Assert.True(race.MaxInFlight > 1, $"The registrations did not overlap (at most {race.MaxInFlight} in flight).");
        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(49, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        await (await MailDevServer.Shared).WaitForMessageAsync($"{local}@example.com");
        Assert.Equal(rowsBefore + 3, await App.CountEntitiesAsync()); // one index row, one user row, its verification link
    }

    public static TheoryData<string, string> InvalidRegistrations => new()
    {
        { """{"password":"correct horse battery"}""", "email" },
        { """{"email":"","password":"correct horse battery"}""", "email" },
        { """{"email":"not-an-email","password":"correct horse battery"}""", "email" },
        { """{"email":"a@b","password":"correct horse battery"}""", "email" },
        { """{"email":"two@@example.com","password":"correct horse battery"}""", "email" },
        { """{"email":"sp ace@example.com","password":"correct horse battery"}""", "email" },
        { """{"email":"ctl\u0001@example.com","password":"correct horse battery"}""", "email" },
        { $$"""{"email":"{{new string('a', 250)}}@example.com","password":"correct horse battery"}""", "email" },
        { """{"email":"x@example.com"}""", "password" },
        { """{"email":"x@example.com","password":null}""", "password" },
        { """{"email":"x@example.com","password":"short"}""", "password" },
        { """{"email":"x@example.com","password":"1234567"}""", "password" },
        { $$"""{"email":"x@example.com","password":"{{new string('p', 73)}}"}""", "password" },
        { $$"""{"email":"x@example.com","password":"{{new string('é', 37)}}"}""", "password" },
        { """{"email":"x@example.com","password":"nul\u0000in the middle"}""", "password" },
        { $$"""{"email":"x@example.com","password":"correct horse battery","full_name":"{{new string('n', 201)}}"}""", "full_name" },
        { """{"email":"x@example.com","password":"correct horse battery","full_name":"bell\u0007"}""", "full_name" },
    };

    [Theory]
    [MemberData(nameof(InvalidRegistrations))]
    public async Task InvalidFieldsAreValidationProblemsAndStoreNothing(string body, string field)
    {
        int before = await App.CountEntitiesAsync();

        var response = await App.Client.PostAsync("/api/register", new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"no error for {field}: {problem}");
        Assert.Equal(before, await App.CountEntitiesAsync());
    }

    [Fact]
    public async Task SeventyTwoBytePasswordIsAcceptedAndEightCharactersIsEnough()
    {
        string email = TestApp.UniqueEmail();
        const string password = "déjà vu: café crème, naïve résumé, piñata façade, über élan!!";
        Assert.Equal(72, System.Text.Encoding.UTF8.GetByteCount(password));
        await ProblemAssert.JsonAsync(await App.RegisterAsync(email, password), HttpStatusCode.Created);
        await App.LoginAsync(email, password);

        string other = TestApp.UniqueEmail();
        await ProblemAssert.JsonAsync(await App.RegisterAsync(other, "😀😀😀😀😀😀😀😀"), HttpStatusCode.Created);
    }

    [Fact]
    public async Task PasswordIsStoredOnlyAsBcryptHash()
    {
        string email = TestApp.UniqueEmail();
        var registered = await (await App.RegisterAsync(email)).Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        string userId = registered.GetProperty("id").GetString()!;

        var rows = await App.Table("users").QueryAsync<Azure.Data.Tables.TableEntity>(row => row.PartitionKey == userId && row.RowKey == "profile").ToListAsync();

        string hash = Assert.Single(rows).GetString("PasswordHash");
        Assert.StartsWith("$2b$04$", hash, StringComparison.Ordinal);
        Assert.DoesNotContain(TestApp.Password, hash, StringComparison.Ordinal);
    }
}
