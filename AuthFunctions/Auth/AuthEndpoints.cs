using AuthFunctions.Hosting;
using AuthFunctions.Passwords;
using AuthFunctions.Users;
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
        api.MapPost("/register", Register).RequireRateLimiting(ClientRateLimiting.CredentialsPolicy);
        api.MapPost("/login", Login).RequireRateLimiting(ClientRateLimiting.CredentialsPolicy);
        api.MapPost("/refresh", Refresh).RequireRateLimiting(ClientRateLimiting.CredentialsPolicy);
        authenticated.MapPost("/logout", Logout).RequireRateLimiting(ClientRateLimiting.CredentialsPolicy);
        authenticated.MapPost("/password", ChangePassword).RequireRateLimiting(ClientRateLimiting.CredentialsPolicy);
        return api;
    }

    public static async Task<Results<Created<UserResponse>, ValidationProblem, ProblemHttpResult>> Register(
        HttpContext context, UserStore users, PasswordHasher hasher, AuthEvents events, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(context.Request, AppJson.Default.RegisterRequest,
            form => new RegisterRequest(form.GetValueOrDefault("email"), form.GetValueOrDefault("password"), form.GetValueOrDefault("full_name")), cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        var request = body.Value!;
        var errors = new Dictionary<string, string[]>();
        if (!CredentialRules.TryNormalizeEmail(request.Email, out var email, out var emailError))
        {
            errors["email"] = [emailError!];
        }
        if (CredentialRules.PasswordProblem(request.Password) is { } passwordError)
        {
            errors["password"] = [passwordError];
        }
        string? fullName = string.IsNullOrWhiteSpace(request.FullName) ? null : request.FullName.Trim();
        if (CredentialRules.FullNameProblem(fullName) is { } nameError)
        {
            errors["full_name"] = [nameError];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var outcome = await users.RegisterAsync(email, await hasher.HashAsync(request.Password!), fullName, cancellationToken);
        if (outcome.Status == RegisterStatus.EmailTaken)
        {
            return Problems.Conflict("An account with this email already exists.");
        }
        var user = outcome.User!;
        events.Registered(context, user.Id);
        return TypedResults.Created("/api/me", new UserResponse(user.Id, user.Email, user.FullName, user.CreatedAt));
    }

    /// <summary>Unknown email and wrong password get one answer and cost one bcrypt verification each (ASVS 6.3.8).</summary>
    public static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> Login(
        HttpContext context, UserStore users, PasswordHasher hasher, SessionService sessions, LoginThrottle throttle, AuthEvents events, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(context.Request, AppJson.Default.LoginRequest,
            form => new LoginRequest(form.GetValueOrDefault("email") ?? form.GetValueOrDefault("username"), form.GetValueOrDefault("password")), cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        var request = body.Value!;
        string? rawEmail = request.Email ?? request.Username;
        if (string.IsNullOrWhiteSpace(rawEmail))
        {
            return Problems.Validation("email", "Email is required.");
        }
        if (string.IsNullOrEmpty(request.Password))
        {
            return Problems.Validation("password", "Password is required.");
        }
        if (rawEmail.Length > CredentialRules.MaxEmailLength * 2)
        {
            return Problems.Validation("email", $"Email must be at most {CredentialRules.MaxEmailLength} characters.");
        }
        if (System.Text.Encoding.UTF8.GetByteCount(request.Password) > Bcrypt.MaxKeyBytes)
        {
            return Problems.Validation("password", $"Password must be at most {Bcrypt.MaxKeyBytes} bytes in UTF-8.");
        }

        if (!CredentialRules.TryNormalizeEmail(rawEmail, out var email, out _))
        {
            // No account can have this address; answer exactly as for an unknown one.
            await hasher.VerifyAgainstDummyAsync(request.Password);
            events.LoginFailed(context, "unknown account", null);
            return InvalidCredentials();
        }
        var throttled = await throttle.CheckAsync(email, cancellationToken);
        if (throttled.RetryAfter is { } wait)
        {
            events.LoginThrottled(context, wait);
            return Problems.TooManyRequests(context, wait, "Too many failed logins for this account. Try again later.");
        }

        var found = await users.FindByEmailAsync(email, cancellationToken);
        var check = PasswordCheck.Failed;
        if (found is null)
        {
            await hasher.VerifyAgainstDummyAsync(request.Password);
        }
        else
        {
            check = await hasher.VerifyAsync(request.Password, found.Value.PasswordHash);
        }
        if (check == PasswordCheck.Failed)
        {
            var delay = await throttle.RecordFailureAsync(email, cancellationToken);
            events.LoginFailed(context, found is null ? "unknown account" : "wrong password", found?.Value.Id);
            if (delay is not null)
            {
                events.LockedOut(context, found?.Value.Id, delay.Value);
            }
            return InvalidCredentials();
        }
        var user = found!.Value;
        if (throttled.HasFailures)
        {
            await throttle.ResetAsync(email, cancellationToken);
        }

        string? upgradedHash = check == PasswordCheck.SucceededRehashNeeded ? await hasher.HashAsync(request.Password) : null;
        await users.RecordLoginAsync(user.Id, upgradedHash, cancellationToken);
        var issued = await sessions.StartAsync(user, context.Request.Headers.UserAgent.ToString(), cancellationToken);
        events.LoginSucceeded(context, user.Id);
        return TypedResults.Ok(ToResponse(issued));
    }

    public static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> Refresh(
        HttpContext context, SessionService sessions, AuthEvents events, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(context.Request, AppJson.Default.RefreshRequest,
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
        HttpContext context, AuthenticatedUser user, UserStore users, AuthEvents events, [FromQuery] string? scope, CancellationToken cancellationToken)
    {
        switch (scope ?? "all")
        {
            case "all":
                await users.EndAllSessionsAsync(user.UserId, cancellationToken);
                break;
            case "session":
                await users.EndSessionAsync(user.UserId, user.SessionId, cancellationToken);
                break;
            case "others":
                await users.StartNewEpochAsync(user.UserId, user.SessionId, newPasswordHash: null, cancellationToken);
                break;
            default:
                return Problems.BadRequest("scope must be 'all', 'session' or 'others'.");
        }
        events.LoggedOut(context, user.UserId, scope ?? "all");
        return TypedResults.NoContent();
    }

    /// <summary>Changes the password after checking the current one; every other session ends, this one stays.</summary>
    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> ChangePassword(
        HttpContext context, AuthenticatedUser user, UserStore users, PasswordHasher hasher, LoginThrottle throttle, AuthEvents events, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(context.Request, AppJson.Default.PasswordChangeRequest,
            form => new PasswordChangeRequest(form.GetValueOrDefault("current_password"), form.GetValueOrDefault("new_password")), cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        var request = body.Value!;
        if (string.IsNullOrEmpty(request.CurrentPassword))
        {
            return Problems.Validation("current_password", "Current password is required.");
        }
        if (CredentialRules.PasswordProblem(request.NewPassword, "new_password") is { } problem)
        {
            return Problems.Validation("new_password", problem);
        }
        var stored = await users.GetAsync(user.UserId, cancellationToken);
        if (stored is null)
        {
            return Problems.InvalidToken(context);
        }
        // Guessing the current password through this function is throttled exactly like login.
        var throttled = await throttle.CheckAsync(stored.Value.Email, cancellationToken);
        if (throttled.RetryAfter is { } wait)
        {
            events.LoginThrottled(context, wait);
            return Problems.TooManyRequests(context, wait, "Too many failed password checks for this account. Try again later.");
        }
        if (System.Text.Encoding.UTF8.GetByteCount(request.CurrentPassword) > Bcrypt.MaxKeyBytes ||
            await hasher.VerifyAsync(request.CurrentPassword, stored.Value.PasswordHash) == PasswordCheck.Failed)
        {
            var delay = await throttle.RecordFailureAsync(stored.Value.Email, cancellationToken);
            events.PasswordChangeRefused(context, user.UserId);
            if (delay is not null)
            {
                events.LockedOut(context, user.UserId, delay.Value);
            }
            return Problems.Unauthorized("The current password is wrong.");
        }
        if (throttled.HasFailures)
        {
            await throttle.ResetAsync(stored.Value.Email, cancellationToken);
        }
        await users.StartNewEpochAsync(user.UserId, user.SessionId, await hasher.HashAsync(request.NewPassword!), cancellationToken);
        events.PasswordChanged(context, user.UserId);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult InvalidCredentials() => Problems.Unauthorized("The email or password is incorrect.");

    private static TokenResponse ToResponse(IssuedTokens issued) =>
        new(issued.AccessToken, "Bearer", issued.ExpiresInSeconds, issued.RefreshToken, issued.RefreshExpiresInSeconds);
}
