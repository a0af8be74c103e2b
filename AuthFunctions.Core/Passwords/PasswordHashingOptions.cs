using Microsoft.Extensions.Options;

namespace AuthFunctions.Passwords;

/// <summary>The password-hashing settings, read from the <c>Auth</c> section (<c>Auth__BcryptCost</c>) where the contract puts them.</summary>
public sealed class PasswordHashingOptions
{
    public const string Section = "Auth";

    /// <summary><c>Auth__BcryptCost</c>: work factor; at least 10 outside Development and tests (OWASP password storage guidance).</summary>
    public int BcryptCost { get; set; } = 12;
}

internal sealed class PasswordHashingOptionsValidator(IHostEnvironment environment) : IValidateOptions<PasswordHashingOptions>
{
    public const int MinimumProductionCost = 10;

    public ValidateOptionsResult Validate(string? name, PasswordHashingOptions options)
    {
        bool relaxed = environment.IsDevelopment() || environment.IsEnvironment("Testing");
        int minimumCost = relaxed ? PasswordHasher.MinCost : MinimumProductionCost;
        return options.BcryptCost < minimumCost || options.BcryptCost > 20
            ? ValidateOptionsResult.Fail($"Auth__BcryptCost must be between {minimumCost} and 20.")
            : ValidateOptionsResult.Success;
    }
}
