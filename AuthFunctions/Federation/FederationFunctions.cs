using AuthFunctions.Auth;
using AuthFunctions.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker.Http;

namespace AuthFunctions.Federation;

/// <summary>oidc-start, oidc-callback, oidc-exchange, oidc-link-ticket, oidc-link, oidc-unlink: sign-in with OpenID Connect providers.</summary>
public sealed class FederationFunctions(FederationService federation, FederationEvents events)
{
    [Function("oidc-start")]
    [RateLimited]
    [ProducesProblems(400, 404, 429, 503)]
    public async Task<Results<RedirectHttpResult, ProblemHttpResult>> Start(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "options", Route = "oidc/{provider}/start")] HttpRequest request, string provider, CancellationToken cancellationToken)
    {
        if (federation.FindProvider(provider) is not { } configured)
        {
            return UnknownProvider();
        }
        if (federation.ReturnUrlIndex(Single(request, "return_to")) is not { } returnUrl)
        {
            return BadReturnUrl();
        }
        if (Single(request, "code_challenge") is not { } challenge || !FederationSecrets.IsChallenge(challenge) || (Single(request, "code_challenge_method") ?? "S256") != "S256")
        {
            return Problems.BadRequest("code_challenge must be the static site's PKCE S256 challenge (RFC 7636): 43 base64url characters.");
        }
        return TypedResults.Redirect(await federation.StartSignInAsync(configured, returnUrl, challenge, cancellationToken));
    }

    /// <summary>The provider's redirect: ends in <c>return_to#code=…</c> (never tokens in a URL) or <c>return_to#error=…</c>.</summary>
    [Function("oidc-callback")]
    [RateLimited]
    [ProducesProblems(400, 404, 429, 503)]
    public async Task<Results<RedirectHttpResult, ProblemHttpResult>> Callback(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "options", Route = "oidc/{provider}/callback")] HttpRequest request, string provider, CancellationToken cancellationToken)
    {
        if (federation.FindProvider(provider) is not { } configured)
        {
            return UnknownProvider();
        }
        var parameters = new CallbackParameters(Single(request, "code"), Single(request, "state"), Single(request, "error"), Single(request, "iss"));
        var outcome = await federation.CallbackAsync(configured, parameters, cancellationToken);
        events.CallbackAnswered(request.HttpContext, provider, outcome);
        return outcome is null ? Problems.BadRequest("state is missing or is not one this app issued.") : TypedResults.Redirect(outcome.Location);
    }

    [Function("oidc-exchange")]
    [RateLimited]
    [AcceptsBody(typeof(OidcExchangeRequest))]
    [ProducesProblems(400, 403, 404, 413, 415, 429, 503)]
    public async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> Exchange(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "oidc/exchange")] HttpRequest request, CancellationToken cancellationToken)
    {
        if (!federation.Enabled)
        {
            return UnknownProvider();
        }
        var body = await RequestBody.ReadAsync(request, FederationJson.Default.OidcExchangeRequest,
            form => new OidcExchangeRequest(form.GetValueOrDefault("code"), form.GetValueOrDefault("code_verifier")), cancellationToken);
        if (body.Problem is not null)
        {
            return body.Problem;
        }
        var outcome = await federation.ExchangeAsync(body.Value!.Code, body.Value.CodeVerifier, request.Headers.UserAgent.ToString(), cancellationToken);
        events.Exchanged(request.HttpContext, outcome);
        return outcome.Status switch
        {
            ExchangeStatus.SignedIn => TypedResults.Ok(new TokenResponse(outcome.Tokens!.AccessToken, "Bearer", outcome.Tokens.ExpiresInSeconds, outcome.Tokens.RefreshToken, outcome.Tokens.RefreshExpiresInSeconds)),
            ExchangeStatus.EmailNotVerified => Problems.EmailNotVerified(),
            ExchangeStatus.MfaRequired => Problems.MfaRequired(outcome.MfaToken!),
            _ => Problems.BadRequest("The login code is invalid, used or expired, or code_verifier does not match its challenge. Sign in again."),
        };
    }

    [Function("oidc-link-ticket")]
    [RequireAccessToken]
    [RateLimited]
    [ProducesProblems(401, 404, 429, 503)]
    public async Task<Results<Ok<LinkTicketResponse>, ProblemHttpResult>> LinkTicket(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "oidc/link-ticket")] HttpRequest request, FunctionContext context, CancellationToken cancellationToken)
    {
        if (!federation.Enabled)
        {
            return UnknownProvider();
        }
        var (ticket, lifetime) = await federation.CreateLinkTicketAsync(context.GetAuthenticatedUser(), cancellationToken);
        return TypedResults.Ok(new LinkTicketResponse(ticket, (int)lifetime.TotalSeconds));
    }

    /// <summary>A page navigation with a link ticket (no bearer possible): to the provider, back with <c>return_to#linked={provider}</c>.</summary>
    [Function("oidc-link")]
    [RateLimited]
    [ProducesProblems(400, 404, 429, 503)]
    public async Task<Results<RedirectHttpResult, ProblemHttpResult>> Link(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "options", Route = "oidc/{provider}/link")] HttpRequest request, string provider, CancellationToken cancellationToken)
    {
        if (federation.FindProvider(provider) is not { } configured)
        {
            return UnknownProvider();
        }
        if (federation.ReturnUrlIndex(Single(request, "return_to")) is not { } returnUrl)
        {
            return BadReturnUrl();
        }
        return await federation.StartLinkAsync(configured, returnUrl, Single(request, "ticket"), cancellationToken) is { } location
            ? TypedResults.Redirect(location)
            : Problems.BadRequest("The link ticket is invalid, used or expired: ask POST /api/oidc/link-ticket for a new one.");
    }

    [Function("oidc-unlink")]
    [RequireAccessToken]
    [RateLimited]
    [ProducesProblems(401, 404, 409, 429, 503)]
    public async Task<Results<NoContent, ProblemHttpResult>> Unlink(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", "options", Route = "me/identities/{provider}")] HttpRequest request, string provider, FunctionContext context,
        CancellationToken cancellationToken)
    {
        var user = context.GetAuthenticatedUser();
        var outcome = await federation.UnlinkAsync(user, provider, cancellationToken);
        events.Unlinked(request.HttpContext, user.UserId, provider, outcome);
        return outcome switch
        {
            UnlinkStatus.Unlinked => TypedResults.NoContent(),
            UnlinkStatus.OnlyWayToSignIn => Problems.Conflict("This identity is the account's only way to sign in: set a password (password reset) or link another provider first."),
            UnlinkStatus.Conflict => Problems.Conflict("The account changed at the same time. Try again."),
            UnlinkStatus.AccountGone => Problems.InvalidToken(request.HttpContext),
            _ => TypedResults.Problem("No identity of this provider is linked to the account.", statusCode: StatusCodes.Status404NotFound, title: "Not found"),
        };
    }

    /// <summary>A query parameter given exactly once; a repeated one is as good as absent.</summary>
    private static string? Single(HttpRequest request, string name) => request.Query[name] is { Count: 1 } values ? values[0] : null;

    private static ProblemHttpResult UnknownProvider() =>
        TypedResults.Problem("No such OpenID Connect provider is configured.", statusCode: StatusCodes.Status404NotFound, title: "Not found");

    private static ProblemHttpResult BadReturnUrl() =>
        Problems.BadRequest("return_to must be exactly one of the pages configured in Oidc__ReturnUrls.");
}
