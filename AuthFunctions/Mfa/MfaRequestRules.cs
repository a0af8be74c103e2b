using AuthFunctions.Http;
using AuthFunctions.Passwords;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AuthFunctions.Mfa;

/// <summary>What each second-factor request must hold, checked before any storage read; the problems name fields, never values.</summary>
public static class MfaRequestRules
{
    private const int MaxTokenLength = 200;

    public static ValidationProblem? Validate(LoginMfaRequest request, out OneTimeCode code)
    {
        ArgumentNullException.ThrowIfNull(request);
        code = OneTimeCode.None;
        if (string.IsNullOrEmpty(request.MfaToken) || request.MfaToken.Length > MaxTokenLength)
        {
            return Problems.Validation("mfa_token", "mfa_token is required: the one the login answered with.");
        }
        if (request.Code is null && request.RecoveryCode is null)
        {
            return Problems.Validation("code", "code (or recovery_code) is required.");
        }
        return Problems.CodeProblem(request.Code, request.RecoveryCode, "code", out code);
    }

    /// <summary>A confirmation: exactly one authenticator code (a recovery code cannot confirm an app).</summary>
    public static ValidationProblem? Validate(MfaCodeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Code is null || request.RecoveryCode is not null
            ? Problems.Validation("code", "code is required: the 6 digits the authenticator app shows.")
            : Problems.CodeProblem(request.Code, null, "code", out _);
    }

    public static ValidationProblem? Validate(TotpRemovalRequest request, out OneTimeCode code)
    {
        ArgumentNullException.ThrowIfNull(request);
        code = OneTimeCode.None;
        if (string.IsNullOrEmpty(request.Password) || PasswordHasher.IsTooLong(request.Password))
        {
            return Problems.AccountPasswordRequired();
        }
        return Problems.CodeProblem(request.Code, request.RecoveryCode, "code", out code);
    }
}
