using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.Azure.Functions.Worker.Middleware;
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
/// Per-client rate limits (ASVS 6.3.1 alongside the per-account throttle) on the functions marked
/// <see cref="RateLimitedAttribute"/>: one fixed one-minute window per client and function. The key is the
/// function the host routed to, never the request's text, so every spelling of a path (case, a trailing slash,
/// percent-encoding) shares one budget. The client is the address the worker sees: the Functions host forwards
/// each request with its TCP peer in <c>X-Forwarded-For</c>, replacing anything the client sent in that header, and
/// the worker's forwarded-headers step makes it the connection's remote address (README, "The client's address").
/// </summary>
public sealed class ClientRateLimitMiddleware(IOptions<RateLimitOptions> options) : IFunctionsWorkerMiddleware, IDisposable
{
    private readonly PartitionedRateLimiter<(string Function, string Client, int Permits)> _limiter =
        PartitionedRateLimiter.Create<(string Function, string Client, int Permits), (string, string, int)>(key =>
            RateLimitPartition.GetFixedWindowLimiter(key, k => new FixedWindowRateLimiterOptions
            {
                PermitLimit = k.Item3,
                Window = TimeSpan.FromMinutes(1),
                QueueLimit = 0,
            }));

    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.GetHttpContext();
        if (http is not null && FunctionCatalog.For(context.FunctionDefinition)?.RateLimit is { } limit && limit.Applies(http.Request.Method))
        {
            int permits = options.Value.PermitsPerMinute * limit.Multiple;
            using var lease = _limiter.AttemptAcquire((context.FunctionDefinition.Name, ClientKey(http.Connection.RemoteIpAddress), permits));
            if (!lease.IsAcquired)
            {
                var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
                context.Answer(Problems.TooManyRequests(http, retryAfter, "Too many requests from this client. Try again later."));
                return;
            }
        }
        await next(context);
    }

    public void Dispose() => _limiter.Dispose();

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

    public static string RetryAfterSeconds(TimeSpan wait) =>
        Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}
