using AuthFunctions.Http;
using AuthFunctions.Passwords;
using Microsoft.AspNetCore.Http.HttpResults;
using AuthFunctions.Accounts;

namespace AuthFunctions.Auth;

/// <summary>What each credential-taking request must hold, checked before any storage or hashing; the problems name fields, never values.</summary>
public static class AuthRequestRules
{
    public readonly record struct Registration(string Email, string Password, string? FullName);

    public static ValidationProblem? Validate(RegisterRequest request, out Registration registration)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new Dictionary<string, string[]>();
        if (!CredentialRules.TryNormalizeEmail(request.Email, out var email, out var emailError))
        {
            errors["email"] = [emailError!];
        }
        if (CredentialRules.PasswordProblem(request.Password) is { } passwordError)
        {
            errors["password"] = [passwordError];
        }
        string? fullName = string.IsNullOrWhiteSpace(request.FullName) ? null : request.FullName.Trim();
        if (CredentialRules.FullNameProblem(fullName) is { } nameError)
        {
            errors["full_name"] = [nameError];
        }
        registration = new Registration(email, request.Password ?? "", fullName);
        return errors.Count > 0 ? Problems.Validation(errors) : null;
    }

    /// <summary>
    /// Presence and size only: a login never says which rule a stored password broke. An address that
    /// cannot be normalized is not a validation error (no account can have it): <paramref name="email"/> is then null.
    /// </summary>
    public static ValidationProblem? Validate(LoginRequest request, out string? email, out Mfa.OneTimeCode code)
    {
        ArgumentNullException.ThrowIfNull(request);
        code = Mfa.OneTimeCode.None;
        return Validate(request, out email) ?? Problems.CodeProblem(request.TotpCode, request.RecoveryCode, "totp_code", out code);
    }

    private static ValidationProblem? Validate(LoginRequest request, out string? email)
    {
        email = null;
        string? rawEmail = request.Email ?? request.Username;
        if (string.IsNullOrWhiteSpace(rawEmail))
        {
            return Problems.Validation("email", "Email is required.");
        }
        if (rawEmail.Length > CredentialRules.MaxEmailLength * 2)
        {
            return Problems.Validation("email", $"Email must be at most {CredentialRules.MaxEmailLength} characters.");
        }
        if (string.IsNullOrEmpty(request.Password))
        {
            return Problems.Validation("password", "Password is required.");
        }
        if (PasswordHasher.IsTooLong(request.Password))
        {
            return Problems.Validation("password", $"Password must be at most {PasswordHasher.MaxPasswordBytes} bytes in UTF-8.");
        }
        email = CredentialRules.TryNormalizeEmail(rawEmail, out var normalized, out _) ? normalized : null;
        return null;
    }

    /// <summary>The change's passwords, then its step-up code if any (<paramref name="code"/>).</summary>
    public static ValidationProblem? Validate(PasswordChangeRequest request, out Mfa.OneTimeCode code)
    {
        ArgumentNullException.ThrowIfNull(request);
        code = Mfa.OneTimeCode.None;
        return Validate(request) ?? Problems.CodeProblem(request.Code, request.RecoveryCode, "code", out code);
    }

    private static ValidationProblem? Validate(PasswordChangeRequest request)
    {
        if (string.IsNullOrEmpty(request.CurrentPassword))
        {
            return Problems.Validation("current_password", "Current password is required.");
        }
        if (PasswordHasher.IsTooLong(request.CurrentPassword))
        {
            // Longer than any password this service accepts, so it cannot be the current one; said plainly rather than guessed.
            return Problems.Validation("current_password", $"Current password must be at most {PasswordHasher.MaxPasswordBytes} bytes in UTF-8.");
        }
        return NewPasswordProblem(request.NewPassword);
    }

    /// <summary>What can be told of a new password before any storage is read: whether it is text, and its length.</summary>
    public static ValidationProblem? NewPasswordProblem(string? newPassword)
    {
        if (CredentialRules.PasswordProblem(newPassword, "new_password") is { } problem)
        {
            return Problems.Validation("new_password", problem);
        }
        return NewPasswordPolicy.LengthWeaknesses(newPassword!) is { Count: > 0 } length ? Problems.WeakPassword(length) : null;
    }
}
