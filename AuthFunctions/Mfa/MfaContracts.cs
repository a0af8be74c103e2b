namespace AuthFunctions.Mfa;

/// <summary>The 200 of <c>POST /api/mfa/totp</c>: what an authenticator app needs (RFC 6238: SHA-1, 6 digits, 30 s).</summary>
public sealed record TotpEnrolmentResponse(string Secret, string OtpauthUri, string QrSvg);

/// <summary><c>{"code"}</c>: a code of the authenticator app (or, for step-up, <c>recovery_code</c> instead).</summary>
public sealed record MfaCodeRequest(string? Code, string? RecoveryCode = null);

/// <summary><c>DELETE /api/mfa/totp</c>: the password, and a code unless the session is aal2.</summary>
public sealed record TotpRemovalRequest(string? Password, string? Code, string? RecoveryCode = null);

/// <summary>The recovery codes, shown this once.</summary>
public sealed record RecoveryCodesResponse(IReadOnlyList<string> RecoveryCodes);

/// <summary><c>POST /api/login/mfa</c>: the login's <c>mfa_token</c> and a code or a recovery code.</summary>
public sealed record LoginMfaRequest(string? MfaToken, string? Code, string? RecoveryCode = null);

/// <summary>What <c>/api/me</c> shows of the second factor.</summary>
public sealed record MfaStatusResponse(bool Totp, int RecoveryCodesLeft);
