using System.Text.Json.Serialization;

namespace AuthFunctions.Auth;

public sealed record RegisterRequest(string? Email, string? Password, string? FullName);

/// <summary>
/// JSON <c>{"email","password","device_token"?}</c>, or a form with <c>username</c> or <c>email</c>
/// (OAuth 2 password-grant style, as the seeds' OAuth2PasswordRequestForm).
/// </summary>
public sealed record LoginRequest(string? Email, string? Password, string? Username = null, string? DeviceToken = null)
{
    /// <summary>A code of the account's authenticator app: finishes a two-step sign-in in this one request.</summary>
    public string? TotpCode { get; init; }

    /// <summary>A recovery code instead of <see cref="TotpCode"/>.</summary>
    public string? RecoveryCode { get; init; }

    /// <summary>The form spelling of the body (the seeds' Flask forms: <c>username</c> for the email, <c>remember_me</c> as a checkbox).</summary>
    public static LoginRequest FromForm(IReadOnlyDictionary<string, string> form)
    {
        ArgumentNullException.ThrowIfNull(form);
        return new LoginRequest(form.GetValueOrDefault("email") ?? form.GetValueOrDefault("username"), form.GetValueOrDefault("password"), DeviceToken: form.GetValueOrDefault("device_token"))
        {
            RememberMe = form.GetValueOrDefault("remember_me") is not { } remember ? null : remember is not ("false" or "0" or "off"),
            TotpCode = form.GetValueOrDefault("totp_code"),
            RecoveryCode = form.GetValueOrDefault("recovery_code"),
        };
    }

    /// <summary>False: the session ends 12 hours after this login; absent or true: the sliding refresh lifetime.</summary>
    public bool? RememberMe { get; init; }
}

public sealed record RefreshRequest(string? RefreshToken);

/// <summary><c>code</c> or <c>recovery_code</c>: the step-up an aal1 session of an account with a second factor needs.</summary>
public sealed record PasswordChangeRequest(string? CurrentPassword, string? NewPassword, string? Code = null, string? RecoveryCode = null)
{
    public static PasswordChangeRequest FromForm(IReadOnlyDictionary<string, string> form)
    {
        ArgumentNullException.ThrowIfNull(form);
        return new PasswordChangeRequest(form.GetValueOrDefault("current_password"), form.GetValueOrDefault("new_password"), form.GetValueOrDefault("code"), form.GetValueOrDefault("recovery_code"));
    }
}

/// <summary>A token pair (refresh); login adds the device token the client keeps for its later logins.</summary>
public sealed record TokenResponse(string AccessToken, string TokenType, int ExpiresIn, string RefreshToken, int RefreshExpiresIn)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? DeviceToken { get; init; }
}

public sealed record UserResponse(string Id, string Email, string? FullName, DateTimeOffset CreatedAt);
