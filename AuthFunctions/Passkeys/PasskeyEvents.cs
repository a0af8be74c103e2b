using AuthFunctions.Passkeys;

namespace AuthFunctions.Passkeys;

/// <summary>Structured log of passkey events: user ids, outcomes and reasons, never a challenge, credential id, public key or token.</summary>
public sealed partial class PasskeyEvents(ILogger<PasskeyEvents> logger)
{
    public void Registered(HttpContext context, string userId, PasskeyRegistrationOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.Status == PasskeyRegistrationStatus.Registered)
        {
            LogRegistered(userId, context.Connection.RemoteIpAddress);
        }
        else
        {
            LogRegistrationRefused(userId, outcome.Status, outcome.Reason, context.Connection.RemoteIpAddress);
        }
    }

    public void Deleted(HttpContext context, string userId) => LogDeleted(userId, context.Connection.RemoteIpAddress);

    public void SignInAttempted(HttpContext context, PasskeySignInOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.Status == PasskeySignInStatus.SignedIn)
        {
            LogSignedIn(outcome.UserId!, context.Connection.RemoteIpAddress);
        }
        else
        {
            LogSignInRefused(outcome.Reason ?? outcome.Status.ToString(), outcome.UserId, context.Connection.RemoteIpAddress);
        }
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "User {UserId} registered a passkey from {ClientAddress}.")]
    private partial void LogRegistered(string userId, System.Net.IPAddress? clientAddress);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Warning, Message = "Passkey registration of user {UserId} refused ({Outcome}: {Reason}) from {ClientAddress}.")]
    private partial void LogRegistrationRefused(string userId, PasskeyRegistrationStatus outcome, string? reason, System.Net.IPAddress? clientAddress);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Information, Message = "User {UserId} deleted a passkey from {ClientAddress}.")]
    private partial void LogDeleted(string userId, System.Net.IPAddress? clientAddress);

    [LoggerMessage(EventId = 1204, Level = LogLevel.Information, Message = "Passkey sign-in succeeded for user {UserId} from {ClientAddress}.")]
    private partial void LogSignedIn(string userId, System.Net.IPAddress? clientAddress);

    [LoggerMessage(EventId = 1205, Level = LogLevel.Warning, Message = "Passkey sign-in refused ({Reason}) for user {UserId} from {ClientAddress}.")]
    private partial void LogSignInRefused(string reason, string? userId, System.Net.IPAddress? clientAddress);
}
