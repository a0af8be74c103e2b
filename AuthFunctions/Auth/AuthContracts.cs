namespace AuthFunctions.Auth;

public sealed record RegisterRequest(string? Email, string? Password, string? FullName);

/// <summary>JSON <c>{"email","password"}</c>, or a form with <c>username</c> or <c>email</c> (OAuth 2 password-grant style, as the seeds' OAuth2PasswordRequestForm).</summary>
public sealed record LoginRequest(string? Email, string? Password, string? Username = null);

public sealed record RefreshRequest(string? RefreshToken);

public sealed record PasswordChangeRequest(string? CurrentPassword, string? NewPassword);

public sealed record TokenResponse(string AccessToken, string TokenType, int ExpiresIn, string RefreshToken, int RefreshExpiresIn);
