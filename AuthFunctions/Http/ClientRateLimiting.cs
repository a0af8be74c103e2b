using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Http;

/// <summary>Settings section <c>RateLimit</c>: per-client limits on the functions that take credentials.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimit";

    /// <summary><c>RateLimit__PermitsPerMinute</c>: requests one client may make to one such function per minute (health: ten times as many).</summary>
    public int PermitsPerMinute { get; set; } = 30;
}

/// <summary>
/// Per-client rate limits (ASVS 6.3.1 alongside the per-account throttle): register, login,
/// refresh, password and logout under <see cref="CredentialsPolicy"/>, health under the more generous
/// <see cref="HealthPolicy"/>. One budget per client and endpoint: the key is the endpoint routing
/// matched, never the request's text, because routing ignores case, a trailing slash and
/// percent-encoding, so every spelling of a path would otherwise get its own budget. Behind the
/// Functions host every request arrives from loopback, so the client address comes from
/// <c>X-Forwarded-For</c>, which is trusted only on requests whose peer is loopback (the host).
/// </summary>
public static class ClientRateLimiting
{
    public const string CredentialsPolicy = "credentials";

    /// <summary>Health is cheap for the caller and cached per instance, so it gets this many times the credentials budget.</summary>
    public const string HealthPolicy = "health";

    public const int HealthPermitsMultiple = 10;

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
            limiter.AddPolicy(CredentialsPolicy, context => PerClientAndEndpoint(context, 1));
            limiter.AddPolicy(HealthPolicy, context => PerClientAndEndpoint(context, HealthPermitsMultiple));
        });
        return services;
    }

    private static RateLimitPartition<(Endpoint?, string)> PerClientAndEndpoint(HttpContext context, int multiple)
    {
        int permits = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value.PermitsPerMinute * multiple;
        // Policies are endpoint metadata, so an endpoint has always been matched here; the instance
        // itself (reference equality) is the key: one per route and method, however the path was written.
        return RateLimitPartition.GetFixedWindowLimiter(
            (context.GetEndpoint(), ClientKey(context.Connection.RemoteIpAddress)),
            _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 });
    }

    /// <summary>
    /// The client part of the key: an IPv4 address however it is written (IPv4-mapped IPv6 too), an
    /// IPv6 address by its /64 network, since one subscriber is usually assigned a whole /64 and can
    /// use any address in it (RFC 6177), which would otherwise be 2^64 budgets.
    /// </summary>
    internal static string ClientKey(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes).ToString() + "/64";
    }

    private static async ValueTask OnRejectedAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
        await Problems.TooManyRequests(rejected.HttpContext, retryAfter, "Too many requests from this client. Try again later.").ExecuteAsync(rejected.HttpContext);
    }

    public static string RetryAfterSeconds(TimeSpan wait) =>
        Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}
