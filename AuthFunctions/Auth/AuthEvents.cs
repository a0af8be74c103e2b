using AuthFunctions.Sessions;
using AuthFunctions.Accounts;

namespace AuthFunctions.Auth;

/// <summary>
/// Structured log of authentication events (ASVS 16.3.1): who (user id, never the password or a
/// token), what, and from which client address. Emails are not logged either: the user id suffices.
/// </summary>
public sealed partial class AuthEvents(ILogger<AuthEvents> logger)
{
    public void Registered(HttpContext context, string userId) => LogRegistered(userId, context.Connection.RemoteIpAddress);

    public void LoginAttempted(HttpContext context, LoginOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        switch (outcome.Status)
        {
            case LoginStatus.LoggedIn:
                LoginSucceeded(context, outcome.UserId!);
                break;
            case LoginStatus.Throttled:
                LoginThrottled(context, outcome.RetryAfter ?? TimeSpan.Zero);
                break;
            case LoginStatus.EmailNotVerified:
                LoginFailed(context, "email not verified", outcome.UserId);
                break;
            case LoginStatus.MfaRequired:
                LoginFailed(context, "right password, second factor required", outcome.UserId);
                break;
            case LoginStatus.WrongCode:
                LoginFailed(context, "right password, wrong code", outcome.UserId);
                break;
            default:
                LoginFailed(context, outcome.UserId is null ? "unknown account" : "wrong password", outcome.UserId);
                if (outcome.LockStarted is { } delay)
                {
                    LockedOut(context, outcome.UserId, delay);
                }
                break;
        }
    }

    public void PasswordChangeAttempted(HttpContext context, string userId, PasswordChangeOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        switch (outcome.Status)
        {
            case PasswordChangeStatus.Changed:
                PasswordChanged(context, userId);
                break;
            case PasswordChangeStatus.Throttled:
                LoginThrottled(context, outcome.RetryAfter ?? TimeSpan.Zero);
                break;
            case PasswordChangeStatus.WrongPassword:
                PasswordChangeRefused(context, userId);
                if (outcome.LockStarted is { } delay)
                {
                    LockedOut(context, userId, delay);
                }
                break;
            case PasswordChangeStatus.Conflict:
                LogPasswordChangeConflict(userId, context.Connection.RemoteIpAddress);
                break;
        }
    }

    private void LoginSucceeded(HttpContext context, string userId) => LogLoginSucceeded(userId, context.Connection.RemoteIpAddress);

    private void LoginFailed(HttpContext context, string reason, string? userId) => LogLoginFailed(reason, userId, context.Connection.RemoteIpAddress);

    private void LockedOut(HttpContext context, string? userId, TimeSpan delay) => LogLockedOut(userId, (int)Math.Ceiling(delay.TotalSeconds), context.Connection.RemoteIpAddress);

    private void LoginThrottled(HttpContext context, TimeSpan wait) => LogThrottled((int)Math.Ceiling(wait.TotalSeconds), context.Connection.RemoteIpAddress);

    public void LoggedOut(HttpContext context, string userId, string scope) => LogLoggedOut(userId, scope, context.Connection.RemoteIpAddress);

    public void Refreshed(HttpContext context, RefreshStatus outcome, string? userId) => LogRefreshed(outcome, userId, context.Connection.RemoteIpAddress);

    private void PasswordChanged(HttpContext context, string userId) => LogPasswordChanged(userId, context.Connection.RemoteIpAddress);

    private void PasswordChangeRefused(HttpContext context, string userId) => LogPasswordChangeRefused(userId, context.Connection.RemoteIpAddress);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Registered user {UserId} from {ClientAddress}.")]
    private partial void LogRegistered(string userId, System.Net.IPAddress? clientAddress);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Login succeeded for user {UserId} from {ClientAddress}.")]
    private partial void LogLoginSucceeded(string userId, System.Net.IPAddress? clientAddress);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Login failed ({Reason}) for user {UserId} from {ClientAddress}.")]
    private partial void LogLoginFailed(string reason, string? userId, System.Net.IPAddress? clientAddress);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "User {UserId} logged out (scope {Scope}) from {ClientAddress}.")]
    private partial void LogLoggedOut(string userId, string scope, System.Net.IPAddress? clientAddress);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "Refresh {Outcome} for user {UserId} from {ClientAddress}.")]
    private partial void LogRefreshed(RefreshStatus outcome, string? userId, System.Net.IPAddress? clientAddress);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "User {UserId} changed their password from {ClientAddress}.")]
    private partial void LogPasswordChanged(string userId, System.Net.IPAddress? clientAddress);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Warning, Message = "Password change refused (wrong current password) for user {UserId} from {ClientAddress}.")]
    private partial void LogPasswordChangeRefused(string userId, System.Net.IPAddress? clientAddress);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "Account of user {UserId} locked for {DelaySeconds} s after repeated failures; last attempt from {ClientAddress}.")]
    private partial void LogLockedOut(string? userId, int delaySeconds, System.Net.IPAddress? clientAddress);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "Password change of user {UserId} from {ClientAddress} lost to a concurrent change; nothing was written.")]
    private partial void LogPasswordChangeConflict(string userId, System.Net.IPAddress? clientAddress);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Warning, Message = "Refused a login attempt during a lockout ({RetryAfterSeconds} s left) from {ClientAddress}.")]
    private partial void LogThrottled(int retryAfterSeconds, System.Net.IPAddress? clientAddress);
}
