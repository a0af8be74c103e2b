using AuthFunctions.Passwords;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AuthFunctions.Http;

/// <summary>RFC 9457 Problem Details for every non-2xx answer, built in one place.</summary>
public static class Problems
{
    public static ValidationProblem Validation(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "The request is invalid.");

    /// <summary>A change that needs the account's password was sent none (or one longer than any password can be).</summary>
    public static ValidationProblem AccountPasswordRequired() => Validation("password", "The account's password is required.");

    public static ValidationProblem Validation(IDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: "The request is invalid.");

    public static ProblemHttpResult BadRequest(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "The request is invalid.");

    /// <summary>401 for a protected function, with the RFC 6750 challenge.</summary>
    public static ProblemHttpResult InvalidToken(HttpContext context, string detail = "The access token is missing, invalid, expired or revoked.")
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
        return TypedResults.Problem(detail, statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
    }

    public static ProblemHttpResult Unauthorized(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict");

    public static ProblemHttpResult PayloadTooLarge(int limit) =>
        TypedResults.Problem($"The request body is larger than {limit} bytes.", statusCode: StatusCodes.Status413PayloadTooLarge, title: "Payload too large");

    public static ProblemHttpResult RequestTimeout(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status408RequestTimeout, title: "Request timeout");

    public static ProblemHttpResult UnsupportedMediaType() =>
        TypedResults.Problem("Send application/json or application/x-www-form-urlencoded.", statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type");

    /// <summary>429 with <c>Retry-After</c> in whole seconds (RFC 6585 §4).</summary>
    public static ProblemHttpResult TooManyRequests(HttpContext context, TimeSpan retryAfter, string detail)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Headers.RetryAfter = ClientRateLimitMiddleware.RetryAfterSeconds(retryAfter);
        return TypedResults.Problem(detail, statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests");
    }

    /// <summary>The stable <c>type</c> of the 403 a login gets for a correct password of an unverified address (<c>Auth__RequireVerifiedEmail</c>).</summary>
    public const string EmailNotVerifiedType = "https://authfunctions.dev/problems/email-not-verified";

    public static ProblemHttpResult EmailNotVerified() =>
        TypedResults.Problem("Confirm your email address with the link we sent, then log in again.", statusCode: StatusCodes.Status403Forbidden,
            title: "Email not verified", type: EmailNotVerifiedType);

    /// <summary>The stable <c>type</c> of the 400 for a new password that is too short, too long, common or guessable from the account.</summary>
    public const string WeakPasswordType = "https://authfunctions.dev/problems/weak-password";

    /// <summary>
    /// The reasons (<see cref="PasswordWeakness"/>) under <c>errors.password</c> at every function that sets a password
    /// (the contract's one place for them, whatever the request calls its field), and a sentence for each: the password
    /// itself is never repeated.
    /// </summary>
    public static ValidationProblem WeakPassword(IReadOnlyList<string> reasons)
    {
        ArgumentNullException.ThrowIfNull(reasons);
        var advice = reasons.Select(reason => reason switch
        {
            PasswordWeakness.TooShort => $"Use at least {NewPasswordPolicy.MinCharacters} characters.",
            PasswordWeakness.TooLong => $"Use at most {PasswordHasher.MaxPasswordBytes} bytes in UTF-8 (bcrypt reads no further, so longer passwords are refused rather than truncated).",
            PasswordWeakness.Common => "It is a common password, or made of common words and patterns that are guessed quickly.",
            _ => "It contains the account's email, name or this service's name.",
        });
        return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["password"] = [.. reasons] },
            detail: string.Join(' ', advice) + " A few random words make a strong password.", title: "The password is too weak.", type: WeakPasswordType);
    }

    public static ProblemHttpResult StorageUnavailable() =>
        TypedResults.Problem("The user store is unavailable. Try again shortly.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable");

    /// <summary>The stable <c>type</c> of a login's 403 for the right password of an account with a second factor: the body carries <c>mfa_token</c>.</summary>
    public const string MfaRequiredType = "https://authfunctions.dev/problems/mfa-required";

    public static ProblemHttpResult MfaRequired(string mfaToken) =>
        TypedResults.Problem("Send a code from the authenticator app (or a recovery code) with this mfa_token to /api/login/mfa within 5 minutes.",
            statusCode: StatusCodes.Status403Forbidden, title: "Second factor required", type: MfaRequiredType,
            extensions: new Dictionary<string, object?> { ["mfa_token"] = mfaToken });

    /// <summary>The stable <c>type</c> of the 403 for a sensitive change from an aal1 session of an account with a second factor.</summary>
    public const string StepUpRequiredType = "https://authfunctions.dev/problems/step-up-required";

    public static ProblemHttpResult StepUpRequired() =>
        TypedResults.Problem("This change needs a code from the authenticator app (code) or a recovery code (recovery_code) in the request, or a session signed in with one.",
            statusCode: StatusCodes.Status403Forbidden, title: "Second factor required", type: StepUpRequiredType);

    /// <summary>The stable <c>type</c> of the 403 for deleting an account without a password from a session that has not just signed in again at its provider.</summary>
    public const string ReauthenticationRequiredType = "https://authfunctions.dev/problems/reauthentication-required";

    public static ProblemHttpResult ReauthenticationRequired() =>
        TypedResults.Problem("This account has no password: sign in again at a provider linked to it (POST /api/oidc/link-ticket, then GET /api/oidc/{provider}/link) and send the request within 5 minutes.",
            statusCode: StatusCodes.Status403Forbidden, title: "Fresh sign-in required", type: ReauthenticationRequiredType);

    public static ProblemHttpResult WrongCode() => Unauthorized("The code is wrong, expired or already used.");

    /// <summary>The code fields of a request, or the validation problem naming the field at fault.</summary>
    public static ValidationProblem? CodeProblem(string? totpCode, string? recoveryCode, string totpField, out Mfa.OneTimeCode code) =>
        Mfa.OneTimeCode.Problem(totpCode, recoveryCode, totpField, out code) is { } problem
            ? Validation(problem.StartsWith("recovery_code", StringComparison.Ordinal) ? "recovery_code" : totpField, problem)
            : null;
}
