using AuthFunctions.Http;

namespace AuthFunctions.Auth;

/// <summary>Marks an endpoint (or a group) as protected by <see cref="AccessTokenMiddleware"/>.</summary>
public sealed class RequireAccessTokenMetadata
{
    public static RequireAccessTokenMetadata Instance { get; } = new();
}

/// <summary>
/// The caller of a protected function, established once by the middleware from the token alone (plus the
/// revocation check); handlers take it as a parameter. Handlers that need more of the user read it themselves.
/// </summary>
public sealed record AuthenticatedUser(string UserId, string Email, string SessionId)
{
    public static ValueTask<AuthenticatedUser?> BindAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ValueTask.FromResult(context.Features.Get<AuthenticatedUser>());
    }
}

/// <summary>
/// One place for every protected function: bearer token → signature and claims → whether its session
/// is live now (<see cref="SessionService.AuthenticateAsync"/>, so revocation holds on every instance).
/// </summary>
public sealed class AccessTokenMiddleware(RequestDelegate next, TokenService tokens, SessionService sessions)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<RequireAccessTokenMetadata>() is null)
        {
            await next(context);
            return;
        }

        var claims = await ReadTokenAsync(context);
        if (claims is null)
        {
            await RefuseAsync(context);
            return;
        }
        var user = await sessions.AuthenticateAsync(claims, context.RequestAborted);
        if (user is null)
        {
            await RefuseAsync(context);
            return;
        }
        context.Features.Set(user);
        await next(context);
    }

    private async ValueTask<AccessTokenClaims?> ReadTokenAsync(HttpContext context)
    {
        var headers = context.Request.Headers.Authorization;
        // Exactly one Authorization header with exactly one "Bearer <token>" (RFC 6750 §2.1).
        if (headers.Count != 1 || headers[0] is not { } header ||
            !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        string token = header[7..].Trim();
        if (token.Length == 0 || token.Contains(' ', StringComparison.Ordinal) || token.Contains(',', StringComparison.Ordinal))
        {
            return null;
        }
        return await tokens.ValidateAccessTokenAsync(token);
    }

    private static async Task RefuseAsync(HttpContext context) =>
        await Problems.InvalidToken(context).ExecuteAsync(context);
}
