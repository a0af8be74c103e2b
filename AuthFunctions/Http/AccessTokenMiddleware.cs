using AuthFunctions.Auth;
using Microsoft.Azure.Functions.Worker.Middleware;
using AuthFunctions.Tokens;
using AuthFunctions.Sessions;

namespace AuthFunctions.Http;

/// <summary>
/// One place for every protected function (those marked <see cref="RequireAccessTokenAttribute"/>, selected in
/// Program.cs): bearer token → signature and claims → whether its session is live now
/// (<see cref="SessionService.AuthenticateAsync"/>, so revocation holds on every instance). A refusal is the 401
/// Problem Details with the RFC 6750 challenge, and the function never runs.
/// </summary>
public sealed class AccessTokenMiddleware(TokenService tokens, SessionService sessions) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.GetHttpContext() ?? throw new InvalidOperationException("The access-token middleware runs on HTTP functions only.");
        var claims = ReadBearerToken(http.Request) is { } token ? await tokens.ValidateAccessTokenAsync(token) : null;
        var user = claims is null ? null : await sessions.AuthenticateAsync(claims, context.CancellationToken);
        if (user is null)
        {
            context.Answer(Problems.InvalidToken(http));
            return;
        }
        context.SetAuthenticatedUser(user);
        await next(context);
    }

    private static string? ReadBearerToken(HttpRequest request)
    {
        var headers = request.Headers.Authorization;
        // Exactly one Authorization header with exactly one "Bearer <token>" (RFC 6750 §2.1).
        if (headers.Count != 1 || headers[0] is not { } header ||
            !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        string token = header[7..].Trim();
        return token.Length == 0 || token.Contains(' ', StringComparison.Ordinal) || token.Contains(',', StringComparison.Ordinal) ? null : token;
    }
}
