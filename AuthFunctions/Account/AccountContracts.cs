namespace AuthFunctions.Account;

public sealed record EmailVerifyRequest(string? Token);

public sealed record PasswordForgotRequest(string? Email);

public sealed record PasswordResetRequest(string? Token, string? NewPassword);

public sealed record ProfileUpdateRequest(string? FullName);

/// <summary><c>code</c> or <c>recovery_code</c>: the step-up an aal1 session of an account with a second factor needs.</summary>
public sealed record AccountDeleteRequest(string? Password, string? Code = null, string? RecoveryCode = null);

/// <summary>The 202 of the functions that queue an email: the same body whatever happens after.</summary>
public sealed record EmailQueuedResponse(string Message);
