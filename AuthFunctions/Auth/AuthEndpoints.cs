using AuthFunctions.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace AuthFunctions.Auth;

/// <summary>register, login, refresh, logout, password.</summary>
public static class AuthEndpoints
{
    public static RouteGroupBuilder MapAuthEndpoints(this RouteGroupBuilder api, RouteGroupBuilder authenticated)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(authenticated);
        api.MapPost("/register", Register).RequireRateLimiting(ClientRateLimiting.CredentialsPolicy)
            .AcceptsBody<RegisterRequest>().ProducesProblems(409, 413, 415, 429, 503);
        api.MapPost("/login", Login).RequireRateLimiting(ClientRateLimiting.CredentialsPolicy)
            .AcceptsBody<LoginRequest>().ProducesProblems(401, 413, 415, 429, 503);
        api.MapPost("/refresh", Refresh).RequireRateLimiting(ClientRateLimiting.CredentialsPolicy)
            .AcceptsBody<RefreshRequest>().ProducesProblems(400, 401, 413, 415, 429, 503);
        authenticated.MapPost("/logout", Logout).RequireRateLimiting(ClientRateLimiting.CredentialsPolicy)
            .ProducesProblems(400, 401, 429, 503);
        authenticated.MapPost("/password", ChangePassword).RequireRateLimiting(ClientRateLimiting.CredentialsPolicy)
            .AcceptsBody<PasswordChangeRequest>().ProducesProblems(401, 409, 413, 415, 429, 503);
        return api;
    }

    public static async Task<Results<Created<UserResponse>, ValidationProblem, ProblemHttpResult>> Register(
        HttpContext context, AccountService accounts, AuthEvents events, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(context.Request, AuthJson.Default.RegisterRequest,
            form => new RegisterRequest(form.GetValueOrDefault("email"), form.GetValueOrDefault("password"), form.GetValueOrDefault("full_name")), cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        if (AuthRequestRules.Validate(body.Value!, out var registration) is { } invalid)
        {
            return invalid;
        }
        var outcome = await accounts.RegisterAsync(registration.Email, registration.Password, registration.FullName, cancellationToken);
        if (outcome.User is not { } user)
        {
            return Problems.Conflict("An account with this email already exists.");
        }
        events.Registered(context, user.Id);
        return TypedResults.Created("/api/me", new UserResponse(user.Id, user.Email, user.FullName, user.CreatedAt));
    }

    public static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> Login(
        HttpContext context, AccountService accounts, AuthEvents events, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(context.Request, AuthJson.Default.LoginRequest,
            form => new LoginRequest(form.GetValueOrDefault("email") ?? form.GetValueOrDefault("username"), form.GetValueOrDefault("password"), DeviceToken: form.GetValueOrDefault("device_token"))
            {
                RememberMe = form.GetValueOrDefault("remember_me") is not { } remember ? null : remember is not ("false" or "0" or "off"),
            }, cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        if (AuthRequestRules.Validate(body.Value!, out var email) is { } invalid)
        {
            return invalid;
        }
        var request = body.Value!;
        var outcome = await accounts.LoginAsync(email, request.Password!, request.DeviceToken, HostUserAgent.ClientPart(context.Request.Headers.UserAgent.ToString()),
            request.RememberMe ?? true, cancellationToken);
        events.LoginAttempted(context, outcome);
        return outcome.Status switch
        {
            LoginStatus.LoggedIn => TypedResults.Ok(ToResponse(outcome.Tokens!) with { DeviceToken = outcome.DeviceToken }),
            LoginStatus.Throttled => Problems.TooManyRequests(context, outcome.RetryAfter!.Value, "Too many failed logins for this account. Try again later."),
            LoginStatus.EmailNotVerified => Problems.EmailNotVerified(),
            _ => Problems.Unauthorized("The email or password is incorrect."),
        };
    }

    public static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> Refresh(
        HttpContext context, SessionService sessions, AuthEvents events, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(context.Request, AuthJson.Default.RefreshRequest,
            form => new RefreshRequest(form.GetValueOrDefault("refresh_token")), cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        if (string.IsNullOrEmpty(body.Value!.RefreshToken))
        {
            return Problems.BadRequest("refresh_token is required.");
        }
        var outcome = await sessions.RefreshAsync(body.Value.RefreshToken, cancellationToken);
        events.Refreshed(context, outcome.Status, outcome.UserId);
        return outcome.Status == RefreshStatus.Refreshed
            ? TypedResults.Ok(ToResponse(outcome.Tokens!))
            : Problems.Unauthorized("The refresh token is invalid, expired or revoked. Log in again.");
    }

    /// <summary>
    /// Default scope ends every session of the user (the seeds' logout-everywhere semantics);
    /// <c>?scope=session</c> ends only this one, <c>?scope=others</c> all but this one.
    /// </summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> Logout(
        HttpContext context, AuthenticatedUser user, SessionService sessions, AuthEvents events, [FromQuery] string? scope, CancellationToken cancellationToken)
    {
        LogoutScope? parsed = (scope ?? "all") switch
        {
            "all" => LogoutScope.All,
            "session" => LogoutScope.Session,
            "others" => LogoutScope.Others,
            _ => null,
        };
        if (parsed is not { } logoutScope)
        {
            return Problems.BadRequest("scope must be 'all', 'session' or 'others'.");
        }
        await sessions.EndAsync(user, logoutScope, cancellationToken);
        events.LoggedOut(context, user.UserId, scope ?? "all");
        return TypedResults.NoContent();
    }

    /// <summary>Changes the password after checking the current one; every other session ends, this one stays.</summary>
    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> ChangePassword(
        HttpContext context, AuthenticatedUser user, AccountService accounts, AuthEvents events, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(context.Request, AuthJson.Default.PasswordChangeRequest,
            form => new PasswordChangeRequest(form.GetValueOrDefault("current_password"), form.GetValueOrDefault("new_password")), cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        if (AuthRequestRules.Validate(body.Value!) is { } invalid)
        {
            return invalid;
        }
        var outcome = await accounts.ChangePasswordAsync(user, body.Value!.CurrentPassword!, body.Value.NewPassword!, cancellationToken);
        events.PasswordChangeAttempted(context, user.UserId, outcome);
        return outcome.Status switch
        {
            PasswordChangeStatus.Changed => TypedResults.NoContent(),
            PasswordChangeStatus.Throttled => Problems.TooManyRequests(context, outcome.RetryAfter!.Value, "Too many failed password checks for this session. Try again later."),
            PasswordChangeStatus.Conflict => Problems.Conflict("The password was changed by another request at the same time. Log in again with the new password."),
            PasswordChangeStatus.AccountGone => Problems.InvalidToken(context),
            _ => Problems.Unauthorized("The current password is wrong."),
        };
    }

    private static TokenResponse ToResponse(IssuedTokens issued) =>
        new(issued.AccessToken, "Bearer", issued.ExpiresInSeconds, issued.RefreshToken, issued.RefreshExpiresInSeconds);
}
