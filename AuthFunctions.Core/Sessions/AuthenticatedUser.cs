using AuthFunctions.Users;

namespace AuthFunctions.Sessions;

/// <summary>
/// The caller of a protected function, established once by the access-token middleware from the token alone (plus the
/// revocation check) and handed to the function through its <c>FunctionContext</c>. Functions that need more of the
/// user read it themselves. <see cref="Assurance"/> is the token's <c>amr</c>/<c>acr</c>: how the session's sign-in was
/// authenticated, for step-up checks.
/// </summary>
public sealed record AuthenticatedUser(string UserId, string Email, string SessionId)
{
    public SessionAssurance Assurance { get; init; } = SessionAssurance.Password;
}
