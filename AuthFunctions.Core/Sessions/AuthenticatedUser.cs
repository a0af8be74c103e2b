namespace AuthFunctions.Sessions;

/// <summary>
/// The caller of a protected function, established once by the access-token middleware from the token alone (plus the
/// revocation check) and handed to the function through its <c>FunctionContext</c>. Functions that need more of the
/// user read it themselves.
/// </summary>
public sealed record AuthenticatedUser(string UserId, string Email, string SessionId);
