using AuthFunctions.Auth;
using AuthFunctions.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker.Http;

namespace AuthFunctions.Passkeys;

/// <summary>
/// passkeys-register-options, passkeys-register, passkeys (list, delete), passkeys-login-options, passkeys-login: WebAuthn
/// registration for a signed-in account and passwordless sign-in with a discoverable credential. Without the
/// <c>Passkeys__*</c> settings every one answers 404.
/// </summary>
public sealed class PasskeyFunctions(PasskeyService passkeys, PasskeyEvents events)
{
    /// <summary>Attestations and assertions with long credential ids are larger than the other functions' bodies.</summary>
    public const int MaxBodyBytes = 16 * 1024;

    [Function("passkeys-register-options")]
    [RequireAccessToken]
    [RateLimited]
    [ProducesProblems(401, 404, 429, 503)]
    public async Task<Results<Ok<PasskeyCreationOptionsResponse>, ProblemHttpResult>> RegisterOptions(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "passkeys/register/options")] HttpRequest request, FunctionContext context, CancellationToken cancellationToken)
    {
        if (!passkeys.Enabled)
        {
            return PasskeyAnswers.NotEnabled();
        }
        var options = await passkeys.StartRegistrationAsync(context.GetAuthenticatedUser().UserId, cancellationToken);
        return options is null ? Problems.InvalidToken(request.HttpContext) : TypedResults.Ok(PasskeyAnswers.ToJson(options));
    }

    [Function("passkeys-register")]
    [RequireAccessToken]
    [RateLimited]
    [AcceptsBody(typeof(PasskeyRegisterRequest), "application/json")]
    [ProducesProblems(400, 401, 404, 409, 413, 415, 429, 503)]
    public async Task<Results<Created<PasskeyCreatedResponse>, ValidationProblem, ProblemHttpResult>> Register(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "passkeys/register")] HttpRequest request, FunctionContext context, CancellationToken cancellationToken)
    {
        if (!passkeys.Enabled)
        {
            return PasskeyAnswers.NotEnabled();
        }
        var user = context.GetAuthenticatedUser();
        var body = await RequestBody.ReadAsync(request, PasskeysJson.Default.PasskeyRegisterRequest, _ => new PasskeyRegisterRequest(null, null), cancellationToken, MaxBodyBytes);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        if (PasskeyAnswers.ReadRegistration(body.Value!, out var credential) is { } invalid)
        {
            return invalid;
        }
        var outcome = await passkeys.FinishRegistrationAsync(user.UserId, credential!, body.Value!.Name, cancellationToken);
        events.Registered(request.HttpContext, user.UserId, outcome);
        return PasskeyAnswers.ForRegistration(request.HttpContext, outcome);
    }

    /// <summary>One function, two methods: GET lists the account's passkeys, DELETE with an id removes one.</summary>
    [Function("passkeys")]
    [RequireAccessToken]
    [ItemRoute("DELETE")]
    [Results(typeof(Results<Ok<PasskeyListResponse>, ProblemHttpResult>), Method = "GET")]
    [Results(typeof(Results<NoContent, ProblemHttpResult>), Method = "DELETE")]
    [ProducesProblems(401, 404, 503)]
    public async Task<IResult> Passkeys(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "delete", "options", Route = "passkeys/{id?}")] HttpRequest request, string? id, FunctionContext context, CancellationToken cancellationToken)
    {
        var user = context.GetAuthenticatedUser();
        if (!passkeys.Enabled || HttpMethods.IsGet(request.Method) != id is null)
        {
            return passkeys.Enabled ? PasskeyAnswers.NoSuchPasskey() : PasskeyAnswers.NotEnabled();
        }
        if (HttpMethods.IsGet(request.Method))
        {
            var all = await passkeys.ListAsync(user.UserId, cancellationToken);
            return TypedResults.Ok(new PasskeyListResponse([.. all.OrderBy(p => p.CreatedAt).Select(p => new PasskeyResponse(p.Id, p.Name, p.CreatedAt, p.LastUsedAt))]));
        }
        if (!await passkeys.DeleteAsync(user.UserId, id!, cancellationToken))
        {
            return PasskeyAnswers.NoSuchPasskey();
        }
        events.Deleted(request.HttpContext, user.UserId);
        return TypedResults.NoContent();
    }

    [Function("passkeys-login-options")]
    [RateLimited]
    [ProducesProblems(404, 429, 503)]
    public async Task<Results<Ok<PasskeyRequestOptionsResponse>, ProblemHttpResult>> LoginOptions(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "passkeys/login/options")] HttpRequest request, CancellationToken cancellationToken)
    {
        if (!passkeys.Enabled)
        {
            return PasskeyAnswers.NotEnabled();
        }
        var challenge = await passkeys.StartSignInAsync(cancellationToken);
        return TypedResults.Ok(PasskeyAnswers.ToJson(challenge));
    }

    [Function("passkeys-login")]
    [RateLimited]
    [AcceptsBody(typeof(PasskeyLoginRequest), "application/json")]
    [ProducesProblems(400, 401, 403, 404, 413, 415, 429, 503)]
    public async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> Login(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "passkeys/login")] HttpRequest request, CancellationToken cancellationToken)
    {
        if (!passkeys.Enabled)
        {
            return PasskeyAnswers.NotEnabled();
        }
        var body = await RequestBody.ReadAsync(request, PasskeysJson.Default.PasskeyLoginRequest, _ => new PasskeyLoginRequest(null, null), cancellationToken, MaxBodyBytes);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        if (PasskeyAnswers.ReadAssertion(body.Value!, out var assertion) is { } invalid)
        {
            return invalid;
        }
        var outcome = await passkeys.SignInAsync(body.Value!.ChallengeId!, assertion!, request.Headers.UserAgent.ToString(), cancellationToken);
        events.SignInAttempted(request.HttpContext, outcome);
        return PasskeyAnswers.ForSignIn(outcome);
    }
}
