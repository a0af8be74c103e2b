using System.Net;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

/// <summary>The optional revocation cache: instant on the instance that revokes, bounded staleness elsewhere.</summary>
public sealed class RevocationCacheTests : AppTestBase
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["Auth:RevocationCacheSeconds"] = "10" };

    [Fact]
    public async Task RevocationOnThisInstanceAppliesAtOnce()
    {
        var (email, tokens) = await App.NewUserAsync();
        var other = await App.LoginAsync(email);
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", tokens.Access)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", other.Access)).StatusCode);

        await App.PostAsync("/api/logout?scope=session", other.Access);
        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", other.Access));
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", tokens.Access)).StatusCode);

        await App.PostAsync("/api/logout", tokens.Access);
        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", tokens.Access));
    }

    [Fact]
    public async Task RevocationOnAnotherInstanceIsSeenOnceTheCacheLifetimePasses()
    {
        var (_, tokens) = await App.NewUserAsync();
        await using var other = await App.StartAnotherInstanceAsync();
        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", tokens.Access)).StatusCode);

        await other.PostAsync("/api/logout", tokens.Access);

        Assert.Equal(HttpStatusCode.OK, (await App.GetAsync("/api/protected", tokens.Access)).StatusCode); // still cached here
        App.Clock.Advance(TimeSpan.FromSeconds(11));
        await ProblemAssert.IsInvalidTokenAsync(await App.GetAsync("/api/protected", tokens.Access));
    }
}
