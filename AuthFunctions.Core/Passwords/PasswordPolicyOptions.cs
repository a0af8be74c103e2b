using Microsoft.Extensions.Options;

namespace AuthFunctions.Passwords;

/// <summary>Settings section <c>Passwords</c>: what a new password must be (NIST SP 800-63B §3.1.1.2, ASVS 5.0 V6.2).</summary>
public sealed class PasswordPolicyOptions
{
    public const string Section = "Passwords";

    /// <summary>The default; README's "Common and guessable passwords" has the measurements behind it.</summary>
    public const int DefaultMinimumStrength = 3;

    /// <summary>
    /// <c>Passwords__MinimumStrength</c>: the lowest zxcvbn score (0–4) a new password may have. 0 keeps only the
    /// list checks: the password is not itself a common password, nor the account's own email, name or the app's name.
    /// </summary>
    public int MinimumStrength { get; set; } = DefaultMinimumStrength;
}

internal sealed class PasswordPolicyOptionsValidator : IValidateOptions<PasswordPolicyOptions>
{
    public ValidateOptionsResult Validate(string? name, PasswordPolicyOptions options) =>
        options.MinimumStrength is < NewPasswordPolicy.LowestScore or > NewPasswordPolicy.HighestScore
            ? ValidateOptionsResult.Fail($"Passwords__MinimumStrength must be between {NewPasswordPolicy.LowestScore} and {NewPasswordPolicy.HighestScore} (the zxcvbn score a new password needs).")
            : ValidateOptionsResult.Success;
}
