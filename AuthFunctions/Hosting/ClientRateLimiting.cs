using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Hosting;

/// <summary>Settings section <c>RateLimit</c>: per-client limits on the functions that take credentials.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimit";

    /// <summary><c>RateLimit__PermitsPerMinute</c>: requests one client address may make to one such function per minute.</summary>
    public int PermitsPerMinute { get; set; } = 30;
}

/// <summary>
/// Per-client rate limits (ASVS 6.3.1 alongside the per-account throttle): register, login,
/// refresh and password, each partitioned by client address. Behind the Functions host every
/// request arrives from loopback, so the client address comes from <c>X-Forwarded-For</c>, which
/// is trusted only on requests whose peer is loopback (the host), never from the internet.
/// </summary>
public static class ClientRateLimiting
{
    public const string CredentialsPolicy = "credentials";

    public static IServiceCollection AddClientRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RateLimitOptions>().Bind(configuration.GetSection(RateLimitOptions.Section))
            .Validate(o => o.PermitsPerMinute is >= 1 and <= 100_000, "RateLimit__PermitsPerMinute must be between 1 and 100000.")
            .ValidateOnStart();
        services.Configure<ForwardedHeadersOptions>(forwarded =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
            forwarded.ForwardLimit = 1;
            forwarded.KnownIPNetworks.Clear();
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse("127.0.0.0/8"));
            forwarded.KnownProxies.Add(System.Net.IPAddress.IPv6Loopback);
        });
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = OnRejectedAsync;
            limiter.AddPolicy(CredentialsPolicy, context =>
            {
                int permits = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value.PermitsPerMinute;
                string client = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
                return RateLimitPartition.GetFixedWindowLimiter(
                    (context.Request.Path.Value, client),
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 });
            });
        });
        return services;
    }

    private static async ValueTask OnRejectedAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
        await Problems.TooManyRequests(rejected.HttpContext, retryAfter, "Too many requests from this client. Try again later.").ExecuteAsync(rejected.HttpContext);
    }

    public static string RetryAfterSeconds(TimeSpan wait) =>
        Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}
