using AuthFunctions.Auth;
using AuthFunctions.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.Net.Http.Headers;
using AuthFunctions.Tokens;
using AuthFunctions.Sessions;

namespace AuthFunctions.ResourceServers;

/// <summary>jwks and introspect: what resource servers (other services) need to trust our access tokens.</summary>
public sealed class ResourceServerFunctions(TokenService tokens, SessionService sessions, IntrospectionClients clients)
{
    /// <summary>Resource servers refetch the key set at most this often; a new key is published before it signs (README, rotation).</summary>
    public const int JwksMaxAgeSeconds = 300;

    /// <summary>The public keys of our ES256 signing keys (RFC 7517); with HS256 there is nothing public to publish.</summary>
    [Function("jwks")]
    [PublicCache(JwksMaxAgeSeconds)]
    public Ok<JsonWebKeySetResponse> Jwks(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "options", Route = ".well-known/jwks.json")] HttpRequest request)
    {
        return TypedResults.Ok(new JsonWebKeySetResponse([..
            tokens.PublicKeys.Select(key => new JsonWebKeyResponse("EC", "P-256", key.X, key.Y, key.KeyId, "sig", "ES256"))]));
    }

    /// <summary>
    /// RFC 7662: whether an access token is active now — valid, and its session not ended by a logout, a password
    /// change or a session delete since it was issued. Anything else, a refresh token included, is just inactive.
    /// </summary>
    [Function("introspect")]
    [RateLimited]
    [AcceptsBody(typeof(IntrospectionRequest), "application/x-www-form-urlencoded")]
    [ProducesProblems(400, 401, 404, 413, 415, 429, 503)]
    public async Task<Results<Ok<IntrospectionResponse>, ProblemHttpResult>> Introspect(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "options", Route = "introspect")] HttpRequest request, CancellationToken cancellationToken)
    {
        if (RefuseCaller(request, out string? clientId) is { } refused)
        {
            return refused;
        }
        var body = await RequestBody.ReadAsync(request, ResourceServersJson.Default.IntrospectionRequest,
            form => new IntrospectionRequest(form.GetValueOrDefault("token"), form.GetValueOrDefault("token_type_hint")), cancellationToken);
        if (body.Require(value => value.Token, "token").Problem is { } problem)
        {
            return problem;
        }
        var claims = await tokens.ValidateAccessTokenAsync(body.Value!.Token!);
        var user = claims is null ? null : await sessions.AuthenticateAsync(claims, cancellationToken);
        return TypedResults.Ok(user is null ? IntrospectionResponse.Inactive : IntrospectionResponse.For(claims!, user, clientId!, tokens));
    }

    /// <summary>
    /// Before the body is read: introspection enabled (else 404), the caller a configured client by HTTP Basic (else 401
    /// with its challenge; RFC 7662 §2.1 requires authorizing the caller), and the body a form (else 415).
    /// </summary>
    private ProblemHttpResult? RefuseCaller(HttpRequest request, out string? clientId)
    {
        clientId = null;
        if (!clients.Enabled)
        {
            return TypedResults.Problem("Token introspection is not enabled on this deployment.", statusCode: StatusCodes.Status404NotFound, title: "Not found");
        }
        clientId = clients.Authenticate(request.Headers.Authorization);
        if (clientId is null)
        {
            request.HttpContext.Response.Headers.WWWAuthenticate = "Basic realm=\"introspect\"";
            return Problems.Unauthorized("Authenticate with HTTP Basic as a configured introspection client.");
        }
        return IsForm(request) ? null : TypedResults.Problem("Send the token as application/x-www-form-urlencoded (RFC 7662 §2.1).",
            statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type");
    }

    /// <summary>RFC 7662 §2.1: the request is a form; a JSON body is refused before it is read.</summary>
    private static bool IsForm(HttpRequest request) =>
        MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType) &&
        mediaType.MediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase);
}
