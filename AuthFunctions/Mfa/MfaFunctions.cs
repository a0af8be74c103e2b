using AuthFunctions.Accounts;
using AuthFunctions.Auth;
using AuthFunctions.Http;
using AuthFunctions.Sessions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker.Http;

namespace AuthFunctions.Mfa;

/// <summary>mfa-totp (enrol, remove), mfa-totp-confirm, mfa-recovery-codes and login-mfa: the second factor.</summary>
public sealed class MfaFunctions(MfaService mfa, AccountService accounts, MfaEvents events)
{
    /// <summary>POST starts (or restarts) enrolment; DELETE removes the factor and its recovery codes.</summary>
    [Function("mfa-totp")]
    [RequireAccessToken]
    [RateLimited]
    [AcceptsBody(typeof(TotpRemovalRequest), Method = "DELETE")]
    [Results(typeof(Results<Ok<TotpEnrolmentResponse>, ProblemHttpResult>), Method = "POST")]
    [Results(typeof(Results<NoContent, ValidationProblem, ProblemHttpResult>), Method = "DELETE")]
    [ProducesProblems(401, 403, 404, 409, 413, 415, 429, 503)]
    public async Task<IResult> Totp(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "delete", "options", Route = "mfa/totp")] HttpRequest request, FunctionContext context, CancellationToken cancellationToken)
    {
        var user = context.GetAuthenticatedUser();
        if (HttpMethods.IsDelete(request.Method))
        {
            return await RemoveAsync(request, user, cancellationToken);
        }
        var outcome = await mfa.StartEnrolmentAsync(user, cancellationToken);
        events.EnrolmentStarted(request.HttpContext, user.UserId, outcome.Status);
        return outcome.Status switch
        {
            EnrolmentStatus.Started => TypedResults.Ok(new TotpEnrolmentResponse(outcome.Material!.Secret, outcome.Material.OtpauthUri, outcome.Material.QrSvg)),
            EnrolmentStatus.AlreadyActive => Problems.Conflict("An authenticator is already active. Remove it first (DELETE /api/mfa/totp) to enrol another."),
            _ => Problems.InvalidToken(request.HttpContext),
        };
    }

    [Function("mfa-totp-confirm")]
    [RequireAccessToken]
    [RateLimited]
    [AcceptsBody(typeof(MfaCodeRequest))]
    [ProducesProblems(401, 409, 413, 415, 429, 503)]
    public async Task<Results<Ok<RecoveryCodesResponse>, ValidationProblem, ProblemHttpResult>> Confirm(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "mfa/totp/confirm")] HttpRequest request, FunctionContext context, CancellationToken cancellationToken)
    {
        var user = context.GetAuthenticatedUser();
        var body = await RequestBody.ReadAsync(request, MfaJson.Default.MfaCodeRequest, form => new MfaCodeRequest(form.GetValueOrDefault("code")), cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        if (MfaRequestRules.Validate(body.Value!) is { } invalid)
        {
            return invalid;
        }
        var outcome = await mfa.ConfirmAsync(user, body.Value!.Code!, cancellationToken);
        events.CodesOutcome(request.HttpContext, user.UserId, "confirm", outcome.Status);
        return CodesResult(request.HttpContext, outcome, "No enrolment is waiting for confirmation (none started, or it expired): start again with POST /api/mfa/totp.");
    }

    [Function("mfa-recovery-codes")]
    [RequireAccessToken]
    [RateLimited]
    [AcceptsBody(typeof(MfaCodeRequest))]
    [ProducesProblems(401, 403, 409, 413, 415, 429, 503)]
    public async Task<Results<Ok<RecoveryCodesResponse>, ValidationProblem, ProblemHttpResult>> RenewRecoveryCodes(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "mfa/recovery-codes")] HttpRequest request, FunctionContext context, CancellationToken cancellationToken)
    {
        var user = context.GetAuthenticatedUser();
        var body = await RequestBody.ReadAsync(request, MfaJson.Default.MfaCodeRequest,
            form => new MfaCodeRequest(form.GetValueOrDefault("code"), form.GetValueOrDefault("recovery_code")), cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        if (Problems.CodeProblem(body.Value!.Code, body.Value.RecoveryCode, "code", out var code) is { } invalid)
        {
            return invalid;
        }
        var outcome = await mfa.RenewRecoveryCodesAsync(user, code, cancellationToken);
        events.CodesOutcome(request.HttpContext, user.UserId, "renew", outcome.Status);
        return CodesResult(request.HttpContext, outcome, "No authenticator is active: there are no recovery codes to renew.");
    }

    [Function("login-mfa")]
    [RateLimited]
    [AcceptsBody(typeof(LoginMfaRequest))]
    [ProducesProblems(401, 413, 415, 429, 503)]
    public async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> LoginMfa(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "login/mfa")] HttpRequest request, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(request, MfaJson.Default.LoginMfaRequest,
            form => new LoginMfaRequest(form.GetValueOrDefault("mfa_token"), form.GetValueOrDefault("code"), form.GetValueOrDefault("recovery_code")), cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        if (MfaRequestRules.Validate(body.Value!, out var code) is { } invalid)
        {
            return invalid;
        }
        var outcome = await mfa.FinishAsync(body.Value!.MfaToken!, code, request.Headers.UserAgent.ToString(), cancellationToken);
        events.SecondStepFinished(request.HttpContext, outcome);
        return outcome.Status switch
        {
            FinishStatus.SignedIn => TypedResults.Ok(new TokenResponse(outcome.Tokens!.AccessToken, "Bearer", outcome.Tokens.ExpiresInSeconds, outcome.Tokens.RefreshToken, outcome.Tokens.RefreshExpiresInSeconds)),
            FinishStatus.Throttled => Problems.TooManyRequests(request.HttpContext, outcome.RetryAfter!.Value, "Too many wrong codes for this account. Try again later."),
            FinishStatus.WrongCode => Problems.WrongCode(),
            _ => Problems.Unauthorized("The mfa_token is invalid, expired or already used. Log in again."),
        };
    }

    private async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> RemoveAsync(HttpRequest request, AuthenticatedUser user, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(request, MfaJson.Default.TotpRemovalRequest,
            form => new TotpRemovalRequest(form.GetValueOrDefault("password"), form.GetValueOrDefault("code"), form.GetValueOrDefault("recovery_code")), cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        if (MfaRequestRules.Validate(body.Value!, out var code) is { } invalid)
        {
            return invalid;
        }
        var outcome = await accounts.RemoveSecondFactorAsync(user, body.Value!.Password!, code, cancellationToken);
        events.FactorRemoval(request.HttpContext, user.UserId, outcome.Status);
        return outcome.Status switch
        {
            FactorRemovalStatus.Removed => TypedResults.NoContent(),
            FactorRemovalStatus.NoFactor => TypedResults.Problem("No authenticator is enrolled.", statusCode: StatusCodes.Status404NotFound, title: "Not found"),
            FactorRemovalStatus.StepUpRequired => Problems.StepUpRequired(),
            FactorRemovalStatus.WrongCode => Problems.WrongCode(),
            FactorRemovalStatus.Throttled => Problems.TooManyRequests(request.HttpContext, outcome.RetryAfter!.Value, "Too many failed checks. Try again later."),
            FactorRemovalStatus.AccountGone => Problems.InvalidToken(request.HttpContext),
            _ => Problems.Unauthorized("The password is wrong."),
        };
    }

    private static Results<Ok<RecoveryCodesResponse>, ValidationProblem, ProblemHttpResult> CodesResult(HttpContext context, CodesOutcome outcome, string noFactor) => outcome.Status switch
    {
        CodesStatus.Issued => TypedResults.Ok(new RecoveryCodesResponse(outcome.RecoveryCodes!)),
        CodesStatus.NoFactor => Problems.Conflict(noFactor),
        CodesStatus.CodeRequired => Problems.StepUpRequired(),
        CodesStatus.WrongCode => Problems.WrongCode(),
        CodesStatus.Throttled => Problems.TooManyRequests(context, outcome.RetryAfter!.Value, "Too many wrong codes for this account. Try again later."),
        CodesStatus.Conflict => Problems.Conflict("Another request changed the authenticator at the same time. Try again."),
        _ => Problems.InvalidToken(context),
    };
}
