namespace AuthFunctions.Federation;

/// <summary>Structured log of federated sign-ins: provider, outcome, user id and client address; never a code, state, nonce, token or URL.</summary>
public sealed partial class FederationEvents(ILogger<FederationEvents> logger)
{
    public void CallbackAnswered(HttpContext context, string provider, FederationRedirect? outcome) =>
        LogCallback(provider, outcome?.Outcome ?? "unknown state", outcome?.UserId, context.Connection.RemoteIpAddress);

    public void Exchanged(HttpContext context, ExchangeOutcome outcome) =>
        LogExchange(outcome.Status, outcome.UserId, context.Connection.RemoteIpAddress);

    public void Unlinked(HttpContext context, string userId, string provider, UnlinkStatus outcome) =>
        LogUnlink(provider, outcome, userId, context.Connection.RemoteIpAddress);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "OpenID Connect callback from {Provider}: {Outcome} for user {UserId} from {ClientAddress}.")]
    private partial void LogCallback(string provider, string outcome, string? userId, System.Net.IPAddress? clientAddress);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "Login code exchange: {Outcome} for user {UserId} from {ClientAddress}.")]
    private partial void LogExchange(ExchangeStatus outcome, string? userId, System.Net.IPAddress? clientAddress);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Information, Message = "Unlink of {Provider}: {Outcome} for user {UserId} from {ClientAddress}.")]
    private partial void LogUnlink(string provider, UnlinkStatus outcome, string userId, System.Net.IPAddress? clientAddress);
}
