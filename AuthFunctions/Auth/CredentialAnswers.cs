using AuthFunctions.Accounts;
using AuthFunctions.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AuthFunctions.Auth;

/// <summary>The credential functions' outcomes as answers, so each function stays a read, a call and an answer.</summary>
internal static class CredentialAnswers
{
    /// <summary>Every failure but throttling, an unverified address and the second factor is the one 401 (ASVS 5.0 V6.3.8: no account enumeration).</summary>
    public static Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult> ForLogin(HttpContext context, LoginOutcome outcome) => outcome.Status switch
    {
        LoginStatus.LoggedIn => TypedResults.Ok(CredentialFunctions.ToResponse(outcome.Tokens!) with { DeviceToken = outcome.DeviceToken }),
        LoginStatus.Throttled => Problems.TooManyRequests(context, outcome.RetryAfter!.Value, "Too many failed logins for this account. Try again later."),
        LoginStatus.EmailNotVerified => Problems.EmailNotVerified(),
        LoginStatus.MfaRequired => Problems.MfaRequired(outcome.MfaToken!),
        LoginStatus.WrongCode => Problems.WrongCode(),
        _ => Problems.Unauthorized("The email or password is incorrect."),
    };

    public static Results<NoContent, ValidationProblem, ProblemHttpResult> ForPasswordChange(HttpContext context, PasswordChangeOutcome outcome) => outcome.Status switch
    {
        PasswordChangeStatus.Changed => TypedResults.NoContent(),
        PasswordChangeStatus.Throttled => Problems.TooManyRequests(context, outcome.RetryAfter!.Value, "Too many failed password checks for this session. Try again later."),
        PasswordChangeStatus.WeakPassword => Problems.WeakPassword(outcome.Weaknesses!),
        PasswordChangeStatus.Conflict => Problems.Conflict("The password was changed by another request at the same time. Log in again with the new password."),
        PasswordChangeStatus.AccountGone => Problems.InvalidToken(context),
        PasswordChangeStatus.StepUpRequired => Problems.StepUpRequired(),
        PasswordChangeStatus.WrongCode => Problems.WrongCode(),
        _ => Problems.Unauthorized("The current password is wrong."),
    };
}
