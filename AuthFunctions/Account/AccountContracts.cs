namespace AuthFunctions.Account;

public sealed record EmailVerifyRequest(string? Token);

public sealed record PasswordForgotRequest(string? Email);

public sealed record PasswordResetRequest(string? Token, string? NewPassword);

public sealed record ProfileUpdateRequest(string? FullName);

public sealed record AccountDeleteRequest(string? Password);

/// <summary>The 202 of the functions that queue an email: the same body whatever happens after.</summary>
public sealed record EmailQueuedResponse(string Message);
