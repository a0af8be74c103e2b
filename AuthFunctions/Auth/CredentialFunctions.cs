using AuthFunctions.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker.Http;
using AuthFunctions.Tokens;
using AuthFunctions.Sessions;
using AuthFunctions.Accounts;
using AuthFunctions.Passwords;

namespace AuthFunctions.Auth;

/// <summary>register, login, refresh, logout, password.</summary>
public sealed class CredentialFunctions(AccountService accounts, SessionService sessions, NewPasswordPolicy passwords, AuthEvents events)
{
    [Function("register")]
    [RateLimited]
    [AcceptsBody(typeof(RegisterRequest))]
    [ProducesProblems(409, 413, 415, 429, 503)]
    public async Task<Results<Created<UserResponse>, ValidationProblem, ProblemHttpResult>> Register(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "register")] HttpRequest request, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(request, AuthJson.Default.RegisterRequest,
            form => new RegisterRequest(form.GetValueOrDefault("email"), form.GetValueOrDefault("password"), form.GetValueOrDefault("full_name")), cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        if (AuthRequestRules.Validate(body.Value!, out var registration) is { } invalid)
        {
            return invalid;
        }
        if (await passwords.WeaknessesAsync(registration.Password, registration.Email, registration.FullName) is { Count: > 0 } weak)
        {
            return Problems.WeakPassword(weak);
        }
        var outcome = await accounts.RegisterAsync(registration.Email, registration.Password, registration.FullName, cancellationToken);
        if (outcome.User is not { } user)
        {
            return Problems.Conflict("An account with this email already exists.");
        }
        events.Registered(request.HttpContext, user.Id);
        return TypedResults.Created("/api/me", new UserResponse(user.Id, user.Email, user.FullName, user.CreatedAt));
    }

    [Function("login")]
    [RateLimited]
    [AcceptsBody(typeof(LoginRequest))]
    [ProducesProblems(401, 403, 413, 415, 429, 503)]
    public async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> Login(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "login")] HttpRequest request, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(request, AuthJson.Default.LoginRequest, LoginRequest.FromForm, cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        if (AuthRequestRules.Validate(body.Value!, out var email, out var code) is { } invalid)
        {
            return invalid;
        }
        var login = body.Value!;
        var outcome = await accounts.LoginAsync(email, login.Password!, login.DeviceToken, request.Headers.UserAgent.ToString(),
            login.RememberMe ?? true, code, cancellationToken);
        events.LoginAttempted(request.HttpContext, outcome);
        return CredentialAnswers.ForLogin(request.HttpContext, outcome);
    }

    [Function("refresh")]
    [RateLimited]
    [AcceptsBody(typeof(RefreshRequest))]
    [ProducesProblems(400, 401, 413, 415, 429, 503)]
    public async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> Refresh(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "refresh")] HttpRequest request, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(request, AuthJson.Default.RefreshRequest,
            form => new RefreshRequest(form.GetValueOrDefault("refresh_token")), cancellationToken);
        if (body.Require(value => value.RefreshToken, "refresh_token").Problem is { } problem)
        {
            return problem;
        }
        var outcome = await sessions.RefreshAsync(body.Value!.RefreshToken, cancellationToken);
        events.Refreshed(request.HttpContext, outcome.Status, outcome.UserId);
        return outcome.Status == RefreshStatus.Refreshed
            ? TypedResults.Ok(ToResponse(outcome.Tokens!))
            : Problems.Unauthorized("The refresh token is invalid, expired or revoked. Log in again.");
    }

    /// <summary>
    /// Default scope ends every session of the user (the seeds' logout-everywhere semantics);
    /// <c>?scope=session</c> ends only this one, <c>?scope=others</c> all but this one.
    /// </summary>
    [Function("logout")]
    [RequireAccessToken]
    [RateLimited]
    [ProducesProblems(400, 401, 429, 503)]
    public async Task<Results<NoContent, ProblemHttpResult>> Logout(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "logout")] HttpRequest request, FunctionContext context, CancellationToken cancellationToken)
    {
        var user = context.GetAuthenticatedUser();
        string? scope = request.Query["scope"].Count > 1 ? "" : request.Query["scope"].FirstOrDefault();
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
        events.LoggedOut(request.HttpContext, user.UserId, scope ?? "all");
        return TypedResults.NoContent();
    }

    /// <summary>Changes the password after checking the current one; every other session ends, this one stays.</summary>
    [Function("password")]
    [RequireAccessToken]
    [RateLimited]
    [AcceptsBody(typeof(PasswordChangeRequest))]
    [ProducesProblems(401, 403, 409, 413, 415, 429, 503)]
    public async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> ChangePassword(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "password")] HttpRequest request, FunctionContext context, CancellationToken cancellationToken)
    {
        var user = context.GetAuthenticatedUser();
        var body = await RequestBody.ReadAsync(request, AuthJson.Default.PasswordChangeRequest, PasswordChangeRequest.FromForm, cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        if (AuthRequestRules.Validate(body.Value!, out var code) is { } invalid)
        {
            return invalid;
        }
        var outcome = await accounts.ChangePasswordAsync(user, body.Value!.CurrentPassword!, body.Value.NewPassword!, code, cancellationToken);
        events.PasswordChangeAttempted(request.HttpContext, user.UserId, outcome);
        return CredentialAnswers.ForPasswordChange(request.HttpContext, outcome);
    }

    internal static TokenResponse ToResponse(IssuedTokens issued) =>
        new(issued.AccessToken, "Bearer", issued.ExpiresInSeconds, issued.RefreshToken, issued.RefreshExpiresInSeconds);
}
