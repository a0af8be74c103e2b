namespace AuthFunctions.Mfa;

/// <summary>A second-factor code as a request carries it: an authenticator code or a recovery code (or neither).</summary>
public readonly record struct OneTimeCode(string? TotpCode, string? RecoveryCode)
{
    public static OneTimeCode None => default;

    public bool IsPresent => TotpCode is not null || RecoveryCode is not null;

    /// <summary>Why the code fields cannot be checked (a sentence naming the field, never the value), or null: both absent, or exactly one well-shaped.</summary>
    public static string? Problem(string? totpCode, string? recoveryCode, string totpField, out OneTimeCode code)
    {
        code = None;
        if (totpCode is not null && recoveryCode is not null)
        {
            return $"Send either {totpField} or recovery_code, not both.";
        }
        // Only ASCII digits: full-width and other Unicode digits, spaces and signs are refused, never normalized.
        if (totpCode is not null && (totpCode.Length != Authenticator.Digits || !totpCode.All(char.IsAsciiDigit)))
        {
            return $"{totpField} must be the {Authenticator.Digits} digits the authenticator app shows.";
        }
        string? recovery = null;
        if (recoveryCode is not null && (recovery = RecoveryCodes.Normalize(recoveryCode)) is null)
        {
            return $"recovery_code must be one of the recovery codes ({RecoveryCodes.Length} letters and digits in groups of four).";
        }
        code = new OneTimeCode(totpCode, recovery);
        return null;
    }
}
