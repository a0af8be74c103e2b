using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

/// <summary>Malformed bodies on every function that reads one: a clear 4xx Problem Details, and storage unchanged.</summary>
public sealed class BadInputTests(AppFixture fixture) : AppTestBase(fixture)
{
    public static TheoryData<string, string, string, HttpStatusCode> Cases()
    {
        var data = new TheoryData<string, string, string, HttpStatusCode>();
        string big = new('x', 10 * 1024);
        foreach (var path in new[] { "/api/register", "/api/login", "/api/refresh", "/api/password" })
        {
            data.Add(path, "application/json", "{\"email\":", HttpStatusCode.BadRequest);
            data.Add(path, "application/json", "[1,2,3]", HttpStatusCode.BadRequest);
            data.Add(path, "application/json", "42", HttpStatusCode.BadRequest);
            data.Add(path, "application/json", "null", HttpStatusCode.BadRequest);
            data.Add(path, "application/json", "", HttpStatusCode.BadRequest);
            data.Add(path, "application/json", "{\"email\":5,\"password\":true,\"refresh_token\":[],\"current_password\":{}}", HttpStatusCode.BadRequest);
            data.Add(path, "application/json", "{\"email\":\"a@example.com\",\"email\":\"b@example.com\",\"password\":\"p\",\"password\":\"q\",\"refresh_token\":\"a\",\"refresh_token\":\"b\",\"current_password\":\"a\",\"current_password\":\"b\"}", HttpStatusCode.BadRequest);
            data.Add(path, "application/json", $"{{\"email\":\"{big}\",\"password\":\"{big}\"}}", HttpStatusCode.RequestEntityTooLarge);
            data.Add(path, "text/plain", "{\"email\":\"a@example.com\"}", HttpStatusCode.UnsupportedMediaType);
            data.Add(path, "application/xml", "<email/>", HttpStatusCode.UnsupportedMediaType);
            data.Add(path, "application/json; charset=latin1", "{}", HttpStatusCode.UnsupportedMediaType);
            data.Add(path, "application/x-www-form-urlencoded", "{\"email\":\"a@example.com\",\"password\":\"x\"}", HttpStatusCode.BadRequest);
            data.Add(path, "application/x-www-form-urlencoded", "email=a%40example.com&email=b%40example.com&password=p&password=q&refresh_token=a&refresh_token=b&current_password=a&current_password=b", HttpStatusCode.BadRequest);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task MalformedBodiesAreClearProblemsAndStoreNothing(string path, string contentType, string body, HttpStatusCode expected)
    {
        var (email, tokens) = await App.NewUserAsync();
        await (await MailDevServer.Shared).WaitForMessageAsync(email); // its verification link row is written by then
        int before = await App.CountEntitiesAsync();
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);

        var response = await App.SendAsync(HttpMethod.Post, path, tokens.Access, content);

        await ProblemAssert.IsProblemAsync(response, expected);
        Assert.Equal(before, await App.CountEntitiesAsync());
    }

    [Theory]
    [InlineData("/api/register")]
    [InlineData("/api/login")]
    public async Task InvalidUtf8IsRefused(string path)
    {
        int before = await App.CountEntitiesAsync();
        byte[] json = [.. "{\"email\":\"a"u8, 0xC3, 0x28, .. "@example.com\",\"password\":\"correct horse battery\"}"u8];
        var content = new ByteArrayContent(json);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        await ProblemAssert.IsProblemAsync(await App.Client.PostAsync(path, content), HttpStatusCode.BadRequest);
        Assert.Equal(before, await App.CountEntitiesAsync());
    }

    [Fact]
    public async Task MissingContentTypeIsUnsupported()
    {
        var content = new ByteArrayContent("{}"u8.ToArray());
        await ProblemAssert.IsProblemAsync(await App.Client.PostAsync("/api/register", content), HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task ChunkedBodyOverTheLimitIsRefused()
    {
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("{\"email\":\"" + new string('a', 8000) + "\"}")));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/register") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        await ProblemAssert.IsProblemAsync(await App.Client.SendAsync(request), HttpStatusCode.RequestEntityTooLarge);
    }

    /// <summary>
    /// The host routes by the functions' metadata before any worker code runs: a method the function does not declare
    /// gets the host's own empty 404 (not a 405 Problem Details), and the function is not invoked.
    /// </summary>
    [Theory]
    [InlineData("GET", "/api/login", "login")]
    [InlineData("PUT", "/api/register", "register")]
    [InlineData("GET", "/api/sessions/abc", "session")]
    public async Task AnUndeclaredMethodGetsTheHostsEmpty404AndNoInvocation(string method, string path, string function)
    {
        var mark = (App.Logs.Entries.Count, App.Logs.AllText.Length);

        var response = await RawHttp.SendAsync(App.BaseAddress, method, path);

        response.AssertBareHostAnswer(404);
        await AssertNotInvokedAsync(mark, function);
    }

    /// <summary>
    /// A percent-encoded NUL anywhere in the path is refused by the host's Kestrel before routing: a bare 400 that closes
    /// the connection (even one the client asked to keep), and no invocation.
    /// </summary>
    [Theory]
    [InlineData("POST", "/api/login%00", "login")]
    [InlineData("GET", "/api/login%00", "login")]
    [InlineData("DELETE", "/api/sessions/%00", "session")]
    [InlineData("DELETE", "/api/sessions/a%00b", "session")]
    [InlineData("POST", "/api/%00login", "login")]
    public async Task ANulInThePathGetsTheHostsBare400AndNoInvocation(string method, string path, string function)
    {
        var mark = (App.Logs.Entries.Count, App.Logs.AllText.Length);
        await using var raw = await RawHttp.ConnectAsync(App.BaseAddress);

        await raw.WriteAsync($"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n");
        var response = await raw.ReadResponseAsync(TimeSpan.FromSeconds(10));

        AssertHostRefusal(response, 400);
        Assert.True(await raw.ServerClosesAsync(TimeSpan.FromSeconds(2)), "the host kept the connection open");
        await AssertNotInvokedAsync(mark, function);
    }

    /// <summary>
    /// What else the host's Kestrel refuses before routing, each with the same bare answer as a NUL (status line,
    /// <c>Content-Length: 0</c>, <c>Connection: close</c>, <c>Date</c>, <c>Server: Kestrel</c> and nothing else): a
    /// byte that is not ASCII in the request target, a target without its leading slash, a target over 8 KB (414),
    /// headers over 32 KB (431), no <c>Host</c> or an invalid one (400), <c>*</c> for anything but OPTIONS (405 with
    /// <c>Allow: OPTIONS</c>).
    /// </summary>
    [Theory]
    [InlineData("raw byte 0xE9", "DELETE /api/sessions/\u00e9 HTTP/1.1\r\nHost: 127.0.0.1\r\n", 400)]
    [InlineData("no leading slash", "POST api/login HTTP/1.1\r\nHost: 127.0.0.1\r\n", 400)]
    [InlineData("target over 8 KB", "GET /api/sessions/{long} HTTP/1.1\r\nHost: 127.0.0.1\r\n", 414)]
    [InlineData("headers over 32 KB", "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: {long}{long}{long}{long}\r\n", 431)]
    [InlineData("no Host", "GET /api/health HTTP/1.1\r\n", 400)]
    [InlineData("invalid Host", "GET /api/health HTTP/1.1\r\nHost: a b\r\n", 400)]
    [InlineData("asterisk", "GET * HTTP/1.1\r\nHost: 127.0.0.1\r\n", 405)]
    public async Task MalformedRequestHeadsGetTheHostsBareAnswer(string what, string head, int status)
    {
        await using var raw = await RawHttp.ConnectAsync(App.BaseAddress);

        string request = head.Replace("{long}", new string('a', 9000), StringComparison.Ordinal) + "Content-Length: 0\r\n\r\n";
        await raw.WriteAsync(Encoding.Latin1.GetBytes(request));
        var response = await raw.ReadResponseAsync(TimeSpan.FromSeconds(10));

        AssertHostRefusal(response, status, status == 405 ? ["Allow"] : []);
        Assert.True(status != 405 || response.Headers["Allow"] == "OPTIONS", what);
        Assert.True(await raw.ServerClosesAsync(TimeSpan.FromSeconds(2)), $"{what}: the host kept the connection open");
    }

    /// <summary>
    /// Only NUL in the path is refused before routing: every other percent-encoded byte (control characters, a slash,
    /// invalid UTF-8, an encoded percent sign), and a NUL in the query, reaches the worker inside the segment it was sent
    /// in, so the function answers with Problem Details (here the 401 of a call without a token).
    /// </summary>
    [Theory]
    [InlineData("/api/sessions/%01")]
    [InlineData("/api/sessions/%0A")]
    [InlineData("/api/sessions/%2F")]
    [InlineData("/api/sessions/%FF")]
    [InlineData("/api/sessions/%C0%80")]
    [InlineData("/api/sessions/%2500")]
    [InlineData("/api/sessions/%ZZ")]
    [InlineData("/api/sessions/x?x=%00")]
    public async Task OtherEncodedBytesReachTheWorker(string path)
    {
        var response = await RawHttp.SendAsync(App.BaseAddress, "DELETE", path);

        response.AssertProblem(401);
        Assert.Equal("nosniff", response.Headers.GetValueOrDefault("X-Content-Type-Options"));
    }

    /// <summary>Dot segments, plain or percent-encoded, are resolved before routing: the function the resolved path names answers.</summary>
    [Theory]
    [InlineData("/api/sessions/../login")]
    [InlineData("/api/sessions/%2e%2e/login")]
    public async Task DotSegmentsAreResolvedBeforeRouting(string path)
    {
        var direct = (await RawHttp.SendAsync(App.BaseAddress, "POST", "/api/login", "{}")).AssertProblem(400);

        var resolved = (await RawHttp.SendAsync(App.BaseAddress, "POST", path, "{}")).AssertProblem(400);

        // login's own answer to a body without email and password
        Assert.Equal(direct.GetProperty("title").GetString(), resolved.GetProperty("title").GetString());
        Assert.Equal(direct.GetProperty("errors").GetRawText(), resolved.GetProperty("errors").GetRawText());
    }

    private static readonly string[] HostRefusalHeaders = ["Connection", "Content-Length", "Date", "Server"];

    /// <summary>The host's own refusal: this status, no body, and exactly these headers (no worker header, none of ours).</summary>
    private static void AssertHostRefusal(RawResponse response, int status, string[]? alsoHeaders = null)
    {
        response.AssertBareHostAnswer(status);
        Assert.Equal("close", response.Headers.GetValueOrDefault("Connection"));
        Assert.Equal(
            HostRefusalHeaders.Concat(alsoHeaders ?? []).Order(StringComparer.OrdinalIgnoreCase),
            response.Headers.Keys.Order(StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>
    /// No invocation of <paramref name="function"/> since <paramref name="mark"/> (log records, log text). The host logs
    /// "Executing 'Functions.name'" for every invocation, in order: a control request that does invoke the function bounds the wait.
    /// </summary>
    private async Task AssertNotInvokedAsync((int Records, int Text) mark, string function)
    {
        var (method, control) = function == "session" ? ("DELETE", "/api/sessions/control") : ("POST", $"/api/{function}");
        Assert.NotEqual(404, (await RawHttp.SendAsync(App.BaseAddress, method, control, "{}")).Status);
        string executed = $"Executed 'Functions.{function}'";
        for (int i = 0; i < 200 && !App.Logs.AllText[mark.Text..].Contains(executed, StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }
        // The control's invocation only.
        Assert.Single(App.Logs.Entries.Skip(mark.Records), e => e.Message.StartsWith($"Executing 'Functions.{function}'", StringComparison.Ordinal));
    }
}
