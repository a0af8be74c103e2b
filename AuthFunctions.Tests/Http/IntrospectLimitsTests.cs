using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// README (HTTP contract): <c>introspect</c> answers 413 and 429 — bodies are at most 4 KiB, and it draws on a
/// per-client budget of <c>RateLimit__PermitsPerMinute</c> like the other credential functions. Each test is its own
/// client (<see cref="LoopbackClient"/>), so each has a whole budget.
/// </summary>
public sealed class IntrospectLimitsTests(AppFixture fixture) : AppTestBase(fixture)
{
    private const int Permits = 3;
    private const string ClientId = "orders-api";
    private const string ClientSecret = "0123456789abcdef0123456789abcdef-orders";

    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["Introspection:Clients:0:Id"] = ClientId,
        ["Introspection:Clients:0:Secret"] = ClientSecret,
        ["RateLimit:PermitsPerMinute"] = Permits.ToString(CultureInfo.InvariantCulture),
    };

    private static async Task<HttpResponseMessage> IntrospectAsync(LoopbackClient client, HttpContent body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/introspect") { Content = body };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(ClientId + ":" + ClientSecret)));
        return await client.Http.SendAsync(request);
    }

    /// <summary>A form body of exactly <paramref name="bytes"/> bytes: <c>token=</c> and padding.</summary>
    private static ByteArrayContent FormOfSize(int bytes, bool chunked = false)
    {
        byte[] body = Encoding.ASCII.GetBytes("token=" + new string('a', bytes - "token=".Length));
        ByteArrayContent content = chunked ? new ChunkedContent(body) : new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        return content;
    }

    [Fact]
    public async Task ABodyOverFourKibibytesGets413AndOneAtTheLimitIsRead()
    {
        using var client = LoopbackClient.Create(App.BaseAddress);

        var atLimit = await IntrospectAsync(client, FormOfSize(4096));
        Assert.Equal(HttpStatusCode.OK, atLimit.StatusCode);
        Assert.Equal("{\"active\":false}", await atLimit.Content.ReadAsStringAsync());

        var over = await IntrospectAsync(client, FormOfSize(4097));
        var problem = await ProblemAssert.IsProblemAsync(over, HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("4096", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AChunkedBodyOverFourKibibytesGets413()
    {
        using var client = LoopbackClient.Create(App.BaseAddress);

        var over = await IntrospectAsync(client, FormOfSize(4097, chunked: true));

        await ProblemAssert.IsProblemAsync(over, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task AClientOverItsBudgetGets429AndAnotherClientIsServed()
    {
        var (_, tokens) = await App.NewUserAsync();
        using var caller = LoopbackClient.Create(App.BaseAddress);
        using var other = LoopbackClient.Create(App.BaseAddress);
        for (int i = 0; i < Permits; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await IntrospectAsync(caller, TokenForm(tokens.Access))).StatusCode);
        }

        var limited = await IntrospectAsync(caller, TokenForm(tokens.Access));

        await ProblemAssert.IsProblemAsync(limited, HttpStatusCode.TooManyRequests);
        Assert.True(int.Parse(limited.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture) is > 0 and <= 60);
        var served = await ProblemAssert.JsonAsync(await IntrospectAsync(other, TokenForm(tokens.Access)), HttpStatusCode.OK);
        Assert.True(served.GetProperty("active").GetBoolean());
    }

    private static FormUrlEncodedContent TokenForm(string token) => new(new Dictionary<string, string> { ["token"] = token });

    /// <summary>Content sent with <c>Transfer-Encoding: chunked</c> (no <c>Content-Length</c>).</summary>
    private sealed class ChunkedContent(byte[] body) : ByteArrayContent(body)
    {
        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
