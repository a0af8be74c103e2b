namespace AuthFunctions.Profile;

public sealed record MeResponse(string Id, string Email, string? FullName, DateTimeOffset CreatedAt, DateTimeOffset? LastLoginAt, bool EmailVerified)
{
    /// <summary>The second factor (GET only): <c>{"totp","recovery_codes_left"}</c>.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public Mfa.MfaStatusResponse? Mfa { get; init; }

    /// <summary>The provider identities linked to the account (<c>GET</c> only).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<Federation.IdentityResponse>? Identities { get; init; }

    public static MeResponse From(Users.UserProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return new MeResponse(profile.Id, profile.Email, profile.FullName, profile.CreatedAt, profile.LastLoginAt, profile.EmailVerified);
    }
}

public sealed record WelcomeResponse(string Message, string UserId, string Email);

public sealed record SessionResponse(string Id, DateTimeOffset CreatedAt, DateTimeOffset LastUsedAt, string? UserAgent, bool Current);

public sealed record SessionListResponse(IReadOnlyList<SessionResponse> Sessions);
