using AuthFunctions.Account;
using AuthFunctions.Auth;
using AuthFunctions.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker.Http;
using AuthFunctions.Tokens;
using AuthFunctions.Sessions;
using AuthFunctions.Accounts;

namespace AuthFunctions.Profile;

/// <summary>protected (the seeds' welcome route), me (the seeds' /users/me: read, edit, delete) and the session list.</summary>
public sealed class ProfileFunctions(SessionService sessions, AccountLifecycleService lifecycle, AccountEvents events, Mfa.MfaService mfa, Federation.FederationService federation)
{
    [Function("protected")]
    [RequireAccessToken]
    [ProducesProblems(401, 503)]
    public static Ok<WelcomeResponse> Welcome(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "options", Route = "protected")] HttpRequest request, FunctionContext context)
    {
        var user = context.GetAuthenticatedUser();
        return TypedResults.Ok(new WelcomeResponse($"Welcome, {user.Email}!", user.UserId, user.Email));
    }

    /// <summary>One function, three methods: GET reads the profile, PATCH edits it, DELETE deletes the account (rate-limited, as they take input).</summary>
    [Function("me")]
    [RequireAccessToken]
    [RateLimited(Methods = ["PATCH", "DELETE"])]
    [AcceptsBody(typeof(ProfileUpdateRequest), Method = "PATCH")]
    [AcceptsBody(typeof(AccountDeleteRequest), Method = "DELETE")]
    [Results(typeof(Results<Ok<MeResponse>, ProblemHttpResult>), Method = "GET")]
    [Results(typeof(Results<Ok<MeResponse>, ValidationProblem, ProblemHttpResult>), Method = "PATCH")]
    [Results(typeof(Results<NoContent, ValidationProblem, ProblemHttpResult>), Method = "DELETE")]
    [ProducesProblems(401, 403, 413, 415, 429, 503)]
    public async Task<IResult> Me(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "patch", "delete", "options", Route = "me")] HttpRequest request, FunctionContext context, CancellationToken cancellationToken)
    {
        var user = context.GetAuthenticatedUser();
        if (HttpMethods.IsPatch(request.Method))
        {
            return await UpdateProfileAsync(request, user, cancellationToken);
        }
        if (HttpMethods.IsDelete(request.Method))
        {
            return await DeleteAccountAsync(request, user, cancellationToken);
        }
        // The access-token check reads no storage; the profile is read here, once.
        return await sessions.GetProfileAsync(user, cancellationToken) is { } profile
            ? TypedResults.Ok(MeResponse.From(profile) with
            {
                Mfa = await MfaStatusAsync(user, cancellationToken),
                Identities = [.. (await federation.ListIdentitiesAsync(user.UserId, cancellationToken)).Select(Federation.IdentityResponse.From)],
            })
            : Problems.InvalidToken(request.HttpContext);
    }

    [Function("sessions")]
    [RequireAccessToken]
    [ProducesProblems(401, 503)]
    public async Task<Ok<SessionListResponse>> ListSessions(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "options", Route = "sessions")] HttpRequest request, FunctionContext context, CancellationToken cancellationToken)
    {
        var user = context.GetAuthenticatedUser();
        var live = await sessions.ListLiveAsync(user, cancellationToken);
        return TypedResults.Ok(new SessionListResponse([..
            live.Select(s => new SessionResponse(s.Id, s.CreatedAt, s.LastUsedAt, s.UserAgent, s.Id == user.SessionId))]));
    }

    [Function("session")]
    [RequireAccessToken]
    [ProducesProblems(401, 404, 503)]
    public async Task<Results<NoContent, ProblemHttpResult>> EndSession(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", "options", Route = "sessions/{id}")] HttpRequest request, string id, FunctionContext context, CancellationToken cancellationToken)
    {
        var user = context.GetAuthenticatedUser();
        if (!TokenService.IsId(id) || !await sessions.EndOneAsync(user.UserId, id, cancellationToken))
        {
            return TypedResults.Problem("No such session.", statusCode: StatusCodes.Status404NotFound, title: "Not found");
        }
        return TypedResults.NoContent();
    }

    private async Task<Results<Ok<MeResponse>, ValidationProblem, ProblemHttpResult>> UpdateProfileAsync(
        HttpRequest request, AuthenticatedUser user, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(request, AccountJson.Default.ProfileUpdateRequest,
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
        return profile is null ? Problems.InvalidToken(request.HttpContext) : TypedResults.Ok(MeResponse.From(profile));
    }

    /// <summary>
    /// Deletes the account after checking the password (throttled in this session's pool, as a password change is); an
    /// account without a password instead needs this session's fresh sign-in at a linked provider (oidc-link).
    /// </summary>
    private async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DeleteAccountAsync(
        HttpRequest request, AuthenticatedUser user, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(request, AccountJson.Default.AccountDeleteRequest,
            form => new AccountDeleteRequest(form.GetValueOrDefault("password"), form.GetValueOrDefault("code"), form.GetValueOrDefault("recovery_code")), cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        if (body.Value!.Password is { } password && Passwords.PasswordHasher.IsTooLong(password))
        {
            return Problems.AccountPasswordRequired();
        }
        if (Problems.CodeProblem(body.Value.Code, body.Value.RecoveryCode, "code", out var code) is { } invalidCode)
        {
            return invalidCode;
        }
        var outcome = await lifecycle.DeleteAccountAsync(user, body.Value.Password, code, cancellationToken);
        events.DeletionAttempted(request.HttpContext, user.UserId, outcome.Status);
        return outcome.Status switch
        {
            DeleteStatus.Deleted => TypedResults.NoContent(),
            DeleteStatus.Throttled => Problems.TooManyRequests(request.HttpContext, outcome.RetryAfter!.Value, "Too many failed password checks for this session. Try again later."),
            DeleteStatus.AccountGone => Problems.InvalidToken(request.HttpContext),
            DeleteStatus.StepUpRequired => Problems.StepUpRequired(),
            DeleteStatus.WrongCode => Problems.WrongCode(),
            DeleteStatus.PasswordRequired => Problems.AccountPasswordRequired(),
            DeleteStatus.ReauthenticationRequired => Problems.ReauthenticationRequired(),
            _ => Problems.Unauthorized("The password is wrong."),
        };
    }

    private async Task<Mfa.MfaStatusResponse> MfaStatusAsync(AuthenticatedUser user, CancellationToken cancellationToken)
    {
        var status = await mfa.GetStatusAsync(user.UserId, cancellationToken);
        return new Mfa.MfaStatusResponse(status.Totp, status.RecoveryCodesLeft);
    }
}
