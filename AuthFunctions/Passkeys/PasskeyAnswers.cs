using System.Text.Json;
using AuthFunctions.Auth;
using AuthFunctions.Http;
using Fido2NetLib;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AuthFunctions.Passkeys;

/// <summary>The passkey functions' translations: WebAuthn JSON in (through the library's own contracts) and out, outcomes to answers.</summary>
internal static class PasskeyAnswers
{
    public static ProblemHttpResult NotEnabled() =>
        TypedResults.Problem("Passkeys are not enabled on this deployment.", statusCode: StatusCodes.Status404NotFound, title: "Not found");

    public static ProblemHttpResult NoSuchPasskey() =>
        TypedResults.Problem("No such passkey.", statusCode: StatusCodes.Status404NotFound, title: "Not found");

    /// <summary>One answer for every failed sign-in: whether the credential, the challenge or the account exists is never told.</summary>
    public static ProblemHttpResult SignInFailed() =>
        Problems.Unauthorized("The passkey could not be verified. Ask for new options and try again.");

    public static PasskeyCreationOptionsResponse ToJson(CredentialCreateOptions options) => new(
        new RelyingPartyJson(options.Rp.Id!, options.Rp.Name),
        new PasskeyUserJson(Base64Url(options.User.Id), options.User.Name, options.User.DisplayName),
        Base64Url(options.Challenge),
        [.. options.PubKeyCredParams.Select(p => new CredentialParameterJson("public-key", (long)p.Alg))],
        options.Timeout,
        [.. options.ExcludeCredentials.Select(c => new CredentialDescriptorJson("public-key", Base64Url(c.Id)))],
        new AuthenticatorSelectionJson("required", RequireResidentKey: true, "required"),
        "none");

    public static PasskeyRequestOptionsResponse ToJson(PasskeySignInChallenge challenge) => new(
        challenge.ChallengeId, Base64Url(challenge.Options.Challenge), challenge.Options.Timeout, challenge.Options.RpId!, [], "required");

    public static ValidationProblem? ReadRegistration(PasskeyRegisterRequest request, out AuthenticatorAttestationRawResponse? credential)
    {
        credential = null;
        if (request.Name is { Length: > PasskeyService.MaxNameLength } || request.Name?.Any(char.IsControl) == true)
        {
            return Problems.Validation("name", $"name is at most {PasskeyService.MaxNameLength} printable characters.");
        }
        credential = Parse(request.Credential, WebAuthnJson.Default.AuthenticatorAttestationRawResponse);
        return credential is { Response.AttestationObject: not null, Response.ClientDataJson: not null, RawId: not null } && IdMatches(credential.Id, credential.RawId)
            ? null
            : Problems.Validation("credential", "credential must be the RegistrationResponseJSON of the new passkey (credential.toJSON()), binary fields in base64url.");
    }

    public static ValidationProblem? ReadAssertion(PasskeyLoginRequest request, out AuthenticatorAssertionRawResponse? assertion)
    {
        assertion = null;
        if (string.IsNullOrEmpty(request.ChallengeId))
        {
            return Problems.Validation("challenge_id", "challenge_id is required: the one passkeys/login/options gave.");
        }
        assertion = Parse(request.Credential, WebAuthnJson.Default.AuthenticatorAssertionRawResponse);
        return assertion is { Response.AuthenticatorData: not null, Response.ClientDataJson: not null, Response.Signature: not null, RawId: not null } && IdMatches(assertion.Id, assertion.RawId)
            ? null
            : Problems.Validation("credential", "credential must be the AuthenticationResponseJSON of the passkey (credential.toJSON()), binary fields in base64url.");
    }

    public static Results<Created<PasskeyCreatedResponse>, ValidationProblem, ProblemHttpResult> ForRegistration(HttpContext context, PasskeyRegistrationOutcome outcome) => outcome.Status switch
    {
        PasskeyRegistrationStatus.Registered => TypedResults.Created("/api/passkeys", new PasskeyCreatedResponse(outcome.Passkey!.Id, outcome.Passkey.Name, outcome.Passkey.CreatedAt)),
        PasskeyRegistrationStatus.CredentialTaken => Problems.Conflict("This passkey is registered already."),
        PasskeyRegistrationStatus.AccountGone => Problems.InvalidToken(context),
        _ => Problems.BadRequest("The passkey could not be verified, or its registration options expired or were replaced. Ask for new options and try again."),
    };

    public static Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult> ForSignIn(PasskeySignInOutcome outcome) => outcome.Status switch
    {
        PasskeySignInStatus.SignedIn => TypedResults.Ok(new TokenResponse(outcome.Tokens!.AccessToken, "Bearer", outcome.Tokens.ExpiresInSeconds,
            outcome.Tokens.RefreshToken, outcome.Tokens.RefreshExpiresInSeconds)),
        PasskeySignInStatus.EmailNotVerified => Problems.EmailNotVerified(),
        _ => SignInFailed(),
    };

    private static T? Parse<T>(JsonElement? json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) where T : class
    {
        if (json is not { ValueKind: JsonValueKind.Object } value)
        {
            return null;
        }
        try
        {
            return value.Deserialize(type);
        }
        catch (Exception malformed) when (malformed is JsonException or FormatException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    private static bool IdMatches(string? id, byte[] rawId) => id is not null && id == Base64Url(rawId);

    private static string Base64Url(byte[] bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);
}
