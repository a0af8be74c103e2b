using AuthFunctions.Accounts;

namespace AuthFunctions.Account;

/// <summary>Structured log of account lifecycle events: user ids and outcomes, never an address, token or link.</summary>
public sealed partial class AccountEvents(ILogger<AccountEvents> logger)
{
    public void LinkRedeemed(HttpContext context, string purpose, LinkOutcome outcome) =>
        LogLinkRedeemed(purpose, outcome.Status, outcome.UserId, context.Connection.RemoteIpAddress);

    public void DeletionAttempted(HttpContext context, string userId, DeleteStatus outcome) =>
        LogDeletion(userId, outcome, context.Connection.RemoteIpAddress);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Link ({Purpose}) redeemed: {Outcome} for user {UserId} from {ClientAddress}.")]
    private partial void LogLinkRedeemed(string purpose, LinkStatus outcome, string? userId, System.Net.IPAddress? clientAddress);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Account deletion of user {UserId}: {Outcome} from {ClientAddress}.")]
    private partial void LogDeletion(string userId, DeleteStatus outcome, System.Net.IPAddress? clientAddress);
}
