using AuthFunctions.Auth;
using AuthFunctions.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AuthFunctions.Profile;

/// <summary>protected (the seeds' welcome route), me (the seeds' /users/me) and the session list.</summary>
public static class ProfileEndpoints
{
    public static RouteGroupBuilder MapProfileEndpoints(this RouteGroupBuilder authenticated)
    {
        ArgumentNullException.ThrowIfNull(authenticated);
        authenticated.MapGet("/protected", Welcome).ProducesProblems(401, 503);
        authenticated.MapGet("/me", Me).ProducesProblems(401, 503);
        authenticated.MapGet("/sessions", ListSessions).ProducesProblems(401, 503);
        authenticated.MapDelete("/sessions/{id}", EndSession).ProducesProblems(401, 503);
        return authenticated;
    }

    public static Ok<WelcomeResponse> Welcome(AuthenticatedUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return TypedResults.Ok(new WelcomeResponse($"Welcome, {user.Email}!", user.UserId, user.Email));
    }

    public static async Task<Results<Ok<MeResponse>, ProblemHttpResult>> Me(AuthenticatedUser user, SessionService sessions, HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        // The access-token check reads no storage; the profile is read here, once.
        if (await sessions.GetProfileAsync(user, cancellationToken) is not { } profile)
        {
            return Problems.InvalidToken(context);
        }
        return TypedResults.Ok(ToResponse(profile));
    }

    public static MeResponse ToResponse(Users.UserProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return new MeResponse(profile.Id, profile.Email, profile.FullName, profile.CreatedAt, profile.LastLoginAt, profile.EmailVerified);
    }

    public static async Task<Ok<SessionListResponse>> ListSessions(AuthenticatedUser user, SessionService sessions, CancellationToken cancellationToken)
    {
        var live = await sessions.ListLiveAsync(user, cancellationToken);
        return TypedResults.Ok(new SessionListResponse([..
            live.Select(s => new SessionResponse(s.Id, s.CreatedAt, s.LastUsedAt, s.UserAgent, s.Id == user.SessionId))]));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> EndSession(string id, AuthenticatedUser user, SessionService sessions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (!TokenService.IsId(id) || !await sessions.EndOneAsync(user.UserId, id, cancellationToken))
        {
            return TypedResults.Problem("No such session.", statusCode: StatusCodes.Status404NotFound, title: "Not found");
        }
        return TypedResults.NoContent();
    }
}
