namespace AuthFunctions.Profile;

public sealed record MeResponse(string Id, string Email, string? FullName, DateTimeOffset CreatedAt, DateTimeOffset? LastLoginAt, bool EmailVerified);

public sealed record WelcomeResponse(string Message, string UserId, string Email);

public sealed record SessionResponse(string Id, DateTimeOffset CreatedAt, DateTimeOffset LastUsedAt, string? UserAgent, bool Current);

public sealed record SessionListResponse(IReadOnlyList<SessionResponse> Sessions);
