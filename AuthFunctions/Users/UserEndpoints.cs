using AuthFunctions.Auth;
using AuthFunctions.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AuthFunctions.Users;

/// <summary>protected (the seeds' welcome route), me (the seeds' /users/me) and the session list.</summary>
public static class UserEndpoints
{
    public static RouteGroupBuilder MapUserEndpoints(this RouteGroupBuilder authenticated)
    {
        ArgumentNullException.ThrowIfNull(authenticated);
        authenticated.MapGet("/protected", Welcome);
        authenticated.MapGet("/me", Me);
        authenticated.MapGet("/sessions", ListSessions);
        authenticated.MapDelete("/sessions/{id}", EndSession);
        return authenticated;
    }

    public static Ok<WelcomeResponse> Welcome(AuthenticatedUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return TypedResults.Ok(new WelcomeResponse($"Welcome, {user.Email}!", user.UserId, user.Email));
    }

    public static Ok<MeResponse> Me(AuthenticatedUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var profile = user.Profile;
        return TypedResults.Ok(new MeResponse(user.UserId, user.Email, profile.FullName, profile.CreatedAt ?? default, profile.LastLoginAt));
    }

    public static async Task<Ok<SessionListResponse>> ListSessions(AuthenticatedUser user, UserStore users, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var sessions = await users.ListLiveSessionsAsync(user.UserId, user.Profile.SessionEpoch, cancellationToken);
        return TypedResults.Ok(new SessionListResponse([..
            sessions.OrderByDescending(s => s.LastUsedAt).Select(s =>
                new SessionResponse(s.SessionId, s.CreatedAt, s.LastUsedAt, s.UserAgent, s.SessionId == user.SessionId))]));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> EndSession(string id, AuthenticatedUser user, UserStore users, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (!TokenService.IsId(id) || !await users.EndSessionAsync(user.UserId, id, cancellationToken))
        {
            return TypedResults.Problem("No such session.", statusCode: StatusCodes.Status404NotFound, title: "Not found");
        }
        return TypedResults.NoContent();
    }
}
