using System.Net;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using AuthFunctions.Passwords;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// New passwords that are common or guessable from the account are refused wherever one is set (NIST SP 800-63B
/// §3.1.1.2, ASVS 5.0 V6.2): register, password change, password reset. The common ones come from the estimator's own
/// list at test time. Logins are not judged.
/// </summary>
public sealed class WeakPasswordTests(AppFixture fixture) : AppTestBase(fixture)
{
    private const string WeakPasswordType = "https://authfunctions.dev/problems/weak-password";

    /// <summary>
    /// The three most common passwords of 8 characters or more in the estimator's list, and variants it catches. Not
    /// "password" itself: the problem's prose holds that word, so its absence from the body could not be checked.
    /// </summary>
    private static readonly string[] CommonPasswords =
        [.. PasswordSamples.CommonPasswords(100).Where(p => p.Length >= 8 && p != "password").Take(3), "PASSWORD1", "P@ssw0rd", "Qwerty123"];

    /// <summary>The 400 names the reasons under <paramref name="field"/> and never contains the password.</summary>
    private static async Task<string[]> WeakAsync(HttpResponseMessage response, string field, string password)
    {
        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        string body = problem.GetRawText();
        Assert.Equal(WeakPasswordType, problem.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
        Assert.DoesNotContain(password, body, StringComparison.OrdinalIgnoreCase);
        return [.. problem.GetProperty("errors").GetProperty(field).EnumerateArray().Select(e => e.GetString()!)];
    }

    /// <summary>Every row of every table of this app, with its ETag: any write changes it.</summary>
    private async Task<List<string>> StorageAsync()
    {
        var rows = new List<string>();
        var service = new TableServiceClient(App.Azurite.ConnectionString);
        await foreach (var table in service.QueryAsync(t => t.Name.CompareTo(App.TablePrefix) >= 0))
        {
            if (!table.Name.StartsWith(App.TablePrefix, StringComparison.Ordinal))
            {
                continue;
            }
            await foreach (var row in service.GetTableClient(table.Name).QueryAsync<TableEntity>())
            {
                rows.Add($"{table.Name}/{row.PartitionKey}/{row.RowKey}/{row.ETag}");
            }
        }
        rows.Sort(StringComparer.Ordinal);
        return rows;
    }

    [Fact]
    public async Task RegisterRefusesCommonPasswordsAndWritesNothing()
    {
        string email = TestApp.UniqueEmail("common");
        var before = await StorageAsync();
        foreach (var password in CommonPasswords)
        {
            Assert.Equal([PasswordWeakness.Common], await WeakAsync(await App.RegisterAsync(email, password), "password", password));
        }
        Assert.Equal(before, await StorageAsync());
        Assert.Equal(HttpStatusCode.Created, (await App.RegisterAsync(email)).StatusCode);
    }

    [Fact]
    public async Task RegisterRefusesTheAccountsOwnEmailAndName()
    {
        string local = $"grace.hopper.{Guid.NewGuid():N}"[..24];
        string email = $"{local}@navy-computing.example";
        Assert.Contains(PasswordWeakness.Context, await WeakAsync(await App.RegisterAsync(email, local), "password", local));
        Assert.Contains(PasswordWeakness.Context, await WeakAsync(await App.RegisterAsync(email, "GraceHopper1906", "Grace Hopper"), "password", "GraceHopper1906"));
        Assert.Contains(PasswordWeakness.Context, await WeakAsync(await App.RegisterAsync(email, "navy-computing"), "password", "navy-computing"));
        // The same name is no context for another account.
        Assert.Equal(HttpStatusCode.Created, (await App.RegisterAsync(email, "GraceHopper1906 and some ships", "Grace Hopper")).StatusCode);
    }

    [Fact]
    public async Task LongRandomPassphrasesAreAccepted()
    {
        foreach (var passphrase in PasswordSamples.Passphrases(3, words: 4, seed: Random.Shared.Next()))
        {
            Assert.Equal(HttpStatusCode.Created, (await App.RegisterAsync(TestApp.UniqueEmail("passphrase"), passphrase)).StatusCode);
        }
    }

    [Fact]
    public async Task LengthProblemsAreWeakPasswordReasons()
    {
        string email = TestApp.UniqueEmail("length");
        Assert.Equal([PasswordWeakness.TooShort], await WeakAsync(await App.RegisterAsync(email, "x7#Kq"), "password", "x7#Kq"));
        string tooLong = string.Concat(Enumerable.Repeat("horse ", 13));
        Assert.Equal([PasswordWeakness.TooLong], await WeakAsync(await App.RegisterAsync(email, tooLong), "password", tooLong));
    }

    [Fact]
    public async Task PasswordChangeRefusesWeakPasswordsAndChangesNothing()
    {
        var (email, tokens) = await App.NewUserAsync("change");
        var other = await App.LoginAsync(email);
        var before = await StorageAsync();
        string local = email[..email.IndexOf('@', StringComparison.Ordinal)];
        foreach (var password in CommonPasswords.Append(local))
        {
            var response = await App.PostAsync("/api/password", tokens.Access, new { current_password = TestApp.Password, new_password = password });
            Assert.NotEmpty(await WeakAsync(response, "password", password));
        }
        Assert.Equal(before, await StorageAsync());
        // Every session goes on, and the password is the old one.
        Assert.Equal(HttpStatusCode.OK, (await App.RefreshAsync(other.Refresh)).StatusCode);
        await App.LoginAsync(email);
    }

    [Fact]
    public async Task PasswordResetRefusesWeakPasswordsAndTheLinkStaysUsable()
    {
        string email = TestApp.UniqueEmail("reset");
        Assert.Equal(HttpStatusCode.Created, (await App.RegisterAsync(email, TestApp.Password, "Katherine Johnson")).StatusCode);
        var maildev = await MailDevServer.Shared;
        await maildev.WaitForMessageAsync(email);
        Assert.Equal(HttpStatusCode.Accepted, (await App.PostAsync("/api/password/forgot", null, new { email })).StatusCode);
        string token = (await maildev.WaitForMessageAsync(email, count: 2)).LinkToken("reset-password");
        var before = await StorageAsync();

        foreach (var password in CommonPasswords)
        {
            var response = await App.PostAsync("/api/password/reset", null, new { token, new_password = password });
            Assert.Equal([PasswordWeakness.Common], await WeakAsync(response, "password", password));
        }
        var byName = await App.PostAsync("/api/password/reset", null, new { token, new_password = "KatherineJohnson" });
        Assert.Equal([PasswordWeakness.Context], await WeakAsync(byName, "password", "KatherineJohnson"));
        Assert.Equal(before, await StorageAsync());

        await App.LoginAsync(email);
        Assert.Equal(HttpStatusCode.NoContent, (await App.PostAsync("/api/password/reset", null, new { token, new_password = "orbital mechanics by hand" })).StatusCode);
        await App.LoginAsync(email, "orbital mechanics by hand");
    }

    /// <summary>Passwords set before the rule existed still log in: only a new password is judged.</summary>
    [Fact]
    public async Task AnExistingWeakPasswordStillLogsIn()
    {
        string email = TestApp.UniqueEmail("legacy");
        var created = await ProblemAssert.JsonAsync(await App.RegisterAsync(email), HttpStatusCode.Created);
        string weak = CommonPasswords[0];
        await App.Table("users").UpdateEntityAsync(
            new TableEntity(created.GetProperty("id").GetString()!, "profile") { ["PasswordHash"] = BCrypt.Net.BCrypt.HashPassword(weak, BCrypt.Net.BCrypt.GenerateSalt(4, 'b')) },
            ETag.All, TableUpdateMode.Merge);

        var tokens = await App.LoginAsync(email, weak);
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/me", tokens.Access)).StatusCode);
    }

    [Fact]
    public async Task NoRefusedPasswordReachesAnyLogLine()
    {
        string email = TestApp.UniqueEmail("logged");
        string local = email[..email.IndexOf('@', StringComparison.Ordinal)];
        // Passwords no log line could hold for another reason ("password" itself names a function).
        string[] refused = ["P@ssw0rd", "Qwerty123", "PASSWORD1", local];
        foreach (var password in refused)
        {
            await WeakAsync(await App.RegisterAsync(email, password), "password", password);
        }
        var (_, tokens) = await App.NewUserAsync("logged-change");
        await WeakAsync(await App.PostAsync("/api/password", tokens.Access, new { current_password = TestApp.Password, new_password = "P@ssw0rd" }), "password", "P@ssw0rd");
        var created = await ProblemAssert.JsonAsync(await App.RegisterAsync(email), HttpStatusCode.Created);
        // The worker's records reach the host's log after the answers: wait for the last registration's (event 1001).
        string userId = created.GetProperty("id").GetString()!;
        await App.Logs.WaitForAsync(e => e.EventId.Id == 1001 && e.State.GetValueOrDefault("UserId") == userId);
        string everything = string.Join("\n", App.Logs.Entries.Select(e => e.AllText)) + "\n" + App.Logs.AllText;
        Assert.All(refused, password => Assert.DoesNotContain(password, everything, StringComparison.Ordinal));
    }
}
