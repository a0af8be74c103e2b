using AuthFunctions.Http;
using AuthFunctions.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker.Http;
using AuthFunctions.Accounts;

namespace AuthFunctions.Account;

/// <summary>email-verify-send, email-verify, password-forgot, password-reset.</summary>
public sealed class AccountFunctions(AccountLifecycleService lifecycle, AccountEvents events)
{
    public const string ForgotMessage = "If an account has this email, a link to reset its password is on its way. It expires soon; ask again if it does not arrive.";
    public const string VerificationMessage = "A verification link is on its way unless the address is already verified. Ask again if it does not arrive.";

    [Function("email-verify-send")]
    [RequireAccessToken]
    [RateLimited]
    [ProducesProblems(401, 429, 503)]
    public Accepted<EmailQueuedResponse> SendVerification(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "email/verify/send")] HttpRequest request, FunctionContext context)
    {
        lifecycle.SendVerification(context.GetAuthenticatedUser().UserId);
        return TypedResults.Accepted((string?)null, new EmailQueuedResponse(VerificationMessage));
    }

    [Function("email-verify")]
    [RateLimited]
    [AcceptsBody(typeof(EmailVerifyRequest))]
    [ProducesProblems(400, 413, 415, 429, 503)]
    public async Task<Results<NoContent, ProblemHttpResult>> VerifyEmail(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "email/verify")] HttpRequest request, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(request, AccountJson.Default.EmailVerifyRequest,
            form => new EmailVerifyRequest(form.GetValueOrDefault("token")), cancellationToken);
        if (body.Require(value => value.Token, "token").Problem is { } problem)
        {
            return problem;
        }
        var outcome = await lifecycle.VerifyEmailAsync(body.Value!.Token!, ClientKey(request), cancellationToken);
        events.LinkRedeemed(request.HttpContext, "email-verification", outcome);
        return outcome.Status == LinkStatus.Done ? TypedResults.NoContent() : LinkProblem(request.HttpContext, outcome, "The verification link is invalid, used or expired. Ask for a new one.");
    }

    /// <summary>Always 202 with one body for a well-formed address: whether an account has it is never told (ASVS 6.3.8).</summary>
    [Function("password-forgot")]
    [RateLimited]
    [AcceptsBody(typeof(PasswordForgotRequest))]
    [ProducesProblems(413, 415, 429, 503)]
    public async Task<Results<Accepted<EmailQueuedResponse>, ValidationProblem, ProblemHttpResult>> ForgotPassword(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "password/forgot")] HttpRequest request, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(request, AccountJson.Default.PasswordForgotRequest,
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

    [Function("password-reset")]
    [RateLimited]
    [AcceptsBody(typeof(PasswordResetRequest))]
    [ProducesProblems(400, 409, 413, 415, 429, 503)]
    public async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> ResetPassword(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "password/reset")] HttpRequest request, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(request, AccountJson.Default.PasswordResetRequest,
            form => new PasswordResetRequest(form.GetValueOrDefault("token"), form.GetValueOrDefault("new_password")), cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        if (string.IsNullOrEmpty(body.Value!.Token))
        {
            return Problems.Validation("token", "token is required.");
        }
        if (AuthRequestRules.NewPasswordProblem(body.Value.NewPassword) is { } invalid)
        {
            return invalid;
        }
        var outcome = await lifecycle.ResetPasswordAsync(body.Value.Token, body.Value.NewPassword!, ClientKey(request), cancellationToken);
        events.LinkRedeemed(request.HttpContext, "password-reset", outcome);
        return outcome.Status switch
        {
            LinkStatus.Done => TypedResults.NoContent(),
            LinkStatus.WeakPassword => Problems.WeakPassword(outcome.Weaknesses!),
            _ => LinkProblem(request.HttpContext, outcome, "The reset link is invalid, used or expired. Ask for a new one."),
        };
    }

    /// <summary>The presenting client, as the per-client rate limits key it: its failed redemptions are counted in its own pool.</summary>
    private static string ClientKey(HttpRequest request) => ClientRateLimitMiddleware.ClientKey(request.HttpContext.Connection.RemoteIpAddress);

    private static ProblemHttpResult LinkProblem(HttpContext context, LinkOutcome outcome, string invalid) => outcome.Status switch
    {
        LinkStatus.Throttled => Problems.TooManyRequests(context, outcome.RetryAfter!.Value, "Too many invalid links from this client. Try again later."),
        _ => Problems.BadRequest(invalid),
    };
}
