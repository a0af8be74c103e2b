using AuthFunctions.Http;
using AuthFunctions.Auth;
using AuthFunctions.Profile;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AuthFunctions.Account;

/// <summary>email-verify-send, email-verify, password-forgot, password-reset, and me's PATCH and DELETE.</summary>
public static class AccountEndpoints
{
    public const string ForgotMessage = "If an account has this email, a link to reset its password is on its way. It expires soon; ask again if it does not arrive.";
    public const string VerificationMessage = "A verification link is on its way unless the address is already verified. Ask again if it does not arrive.";

    public static RouteGroupBuilder MapAccountEndpoints(this RouteGroupBuilder api, RouteGroupBuilder authenticated)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(authenticated);
        authenticated.MapPost("/email/verify/send", SendVerification).RequireRateLimiting(ClientRateLimiting.CredentialsPolicy)
            .ProducesProblems(401, 429, 503);
        api.MapPost("/email/verify", VerifyEmail).RequireRateLimiting(ClientRateLimiting.CredentialsPolicy)
            .AcceptsBody<EmailVerifyRequest>().ProducesProblems(400, 413, 415, 429, 503);
        api.MapPost("/password/forgot", ForgotPassword).RequireRateLimiting(ClientRateLimiting.CredentialsPolicy)
            .AcceptsBody<PasswordForgotRequest>().ProducesProblems(413, 415, 429, 503);
        api.MapPost("/password/reset", ResetPassword).RequireRateLimiting(ClientRateLimiting.CredentialsPolicy)
            .AcceptsBody<PasswordResetRequest>().ProducesProblems(400, 409, 413, 415, 429, 503);
        authenticated.MapPatch("/me", UpdateProfile).RequireRateLimiting(ClientRateLimiting.CredentialsPolicy)
            .AcceptsBody<ProfileUpdateRequest>().ProducesProblems(401, 413, 415, 429, 503);
        authenticated.MapDelete("/me", DeleteAccount).RequireRateLimiting(ClientRateLimiting.CredentialsPolicy)
            .AcceptsBody<AccountDeleteRequest>().ProducesProblems(401, 413, 415, 429, 503);
        return api;
    }

    public static Accepted<EmailQueuedResponse> SendVerification(AuthenticatedUser user, AccountLifecycleService lifecycle)
    {
        ArgumentNullException.ThrowIfNull(user);
        lifecycle.SendVerification(user.UserId);
        return TypedResults.Accepted((string?)null, new EmailQueuedResponse(VerificationMessage));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> VerifyEmail(
        HttpContext context, AccountLifecycleService lifecycle, AccountEvents events, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(context.Request, AccountJson.Default.EmailVerifyRequest,
            form => new EmailVerifyRequest(form.GetValueOrDefault("token")), cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        if (string.IsNullOrEmpty(body.Value!.Token))
        {
            return Problems.BadRequest("token is required.");
        }
        var outcome = await lifecycle.VerifyEmailAsync(body.Value.Token, cancellationToken);
        events.LinkRedeemed(context, "email-verification", outcome);
        return outcome.Status == LinkStatus.Done ? TypedResults.NoContent() : LinkProblem(context, outcome, "The verification link is invalid, used or expired. Ask for a new one.");
    }

    /// <summary>Always 202 with one body for a well-formed address: whether an account has it is never told (ASVS 6.3.8).</summary>
    public static async Task<Results<Accepted<EmailQueuedResponse>, ValidationProblem, ProblemHttpResult>> ForgotPassword(
        HttpContext context, AccountLifecycleService lifecycle, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(context.Request, AccountJson.Default.PasswordForgotRequest,
            form => new PasswordForgotRequest(form.GetValueOrDefault("email")), cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        if (!CredentialRules.TryNormalizeEmail(body.Value!.Email, out var email, out var error))
        {
            return Problems.Validation("email", error!);
        }
        lifecycle.ForgotPassword(email);
        return TypedResults.Accepted((string?)null, new EmailQueuedResponse(ForgotMessage));
    }

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> ResetPassword(
        HttpContext context, AccountLifecycleService lifecycle, AccountEvents events, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(context.Request, AccountJson.Default.PasswordResetRequest,
            form => new PasswordResetRequest(form.GetValueOrDefault("token"), form.GetValueOrDefault("new_password")), cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        if (string.IsNullOrEmpty(body.Value!.Token))
        {
            return Problems.Validation("token", "token is required.");
        }
        if (CredentialRules.PasswordProblem(body.Value.NewPassword, "new_password") is { } weak)
        {
            return Problems.Validation("new_password", weak);
        }
        var outcome = await lifecycle.ResetPasswordAsync(body.Value.Token, body.Value.NewPassword!, cancellationToken);
        events.LinkRedeemed(context, "password-reset", outcome);
        return outcome.Status == LinkStatus.Done ? TypedResults.NoContent() : LinkProblem(context, outcome, "The reset link is invalid, used or expired. Ask for a new one.");
    }

    public static async Task<Results<Ok<MeResponse>, ValidationProblem, ProblemHttpResult>> UpdateProfile(
        HttpContext context, AuthenticatedUser user, AccountLifecycleService lifecycle, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(context.Request, AccountJson.Default.ProfileUpdateRequest,
            form => new ProfileUpdateRequest(form.GetValueOrDefault("full_name")), cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        string? fullName = string.IsNullOrWhiteSpace(body.Value!.FullName) ? null : body.Value.FullName.Trim();
        if (CredentialRules.FullNameProblem(fullName) is { } invalid)
        {
            return Problems.Validation("full_name", invalid);
        }
        var profile = await lifecycle.UpdateFullNameAsync(user, fullName, cancellationToken);
        return profile is null ? Problems.InvalidToken(context) : TypedResults.Ok(ProfileEndpoints.ToResponse(profile));
    }

    /// <summary>Deletes the account after checking the password (throttled in this session's pool, as a password change is).</summary>
    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DeleteAccount(
        HttpContext context, AuthenticatedUser user, AccountLifecycleService lifecycle, AccountEvents events, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(context.Request, AccountJson.Default.AccountDeleteRequest,
            form => new AccountDeleteRequest(form.GetValueOrDefault("password")), cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        if (string.IsNullOrEmpty(body.Value!.Password) || Passwords.PasswordHasher.IsTooLong(body.Value.Password))
        {
            return Problems.Validation("password", "The account's password is required.");
        }
        var outcome = await lifecycle.DeleteAccountAsync(user, body.Value.Password, cancellationToken);
        events.DeletionAttempted(context, user.UserId, outcome.Status);
        return outcome.Status switch
        {
            DeleteStatus.Deleted => TypedResults.NoContent(),
            DeleteStatus.Throttled => Problems.TooManyRequests(context, outcome.RetryAfter!.Value, "Too many failed password checks for this session. Try again later."),
            DeleteStatus.AccountGone => Problems.InvalidToken(context),
            _ => Problems.Unauthorized("The password is wrong."),
        };
    }

    private static ProblemHttpResult LinkProblem(HttpContext context, LinkOutcome outcome, string invalid) => outcome.Status switch
    {
        LinkStatus.Throttled => Problems.TooManyRequests(context, outcome.RetryAfter!.Value, "Too many invalid links for this account. Try again later."),
        _ => Problems.BadRequest(invalid),
    };
}
