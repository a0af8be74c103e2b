using AuthFunctions.Accounts;

namespace AuthFunctions.Mfa;

/// <summary>Structured log of second-factor events (ASVS 16.3.1): user ids and outcomes, never a secret, code, URI or mfa_token.</summary>
public sealed partial class MfaEvents(ILogger<MfaEvents> logger)
{
    public void EnrolmentStarted(HttpContext context, string userId, EnrolmentStatus outcome) =>
        LogEnrolment(userId, outcome, context.Connection.RemoteIpAddress);

    public void CodesOutcome(HttpContext context, string userId, string operation, CodesStatus outcome) =>
        LogCodes(operation, userId, outcome, context.Connection.RemoteIpAddress);

    public void FactorRemoval(HttpContext context, string userId, FactorRemovalStatus outcome) =>
        LogRemoval(userId, outcome, context.Connection.RemoteIpAddress);

    public void SecondStepFinished(HttpContext context, FinishOutcome outcome) =>
        LogSecondStep(outcome.Status, outcome.UserId, context.Connection.RemoteIpAddress);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Authenticator enrolment for user {UserId}: {Outcome}, from {ClientAddress}.")]
    private partial void LogEnrolment(string userId, EnrolmentStatus outcome, System.Net.IPAddress? clientAddress);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "Recovery codes ({Operation}) for user {UserId}: {Outcome}, from {ClientAddress}.")]
    private partial void LogCodes(string operation, string userId, CodesStatus outcome, System.Net.IPAddress? clientAddress);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Information, Message = "Authenticator removal for user {UserId}: {Outcome}, from {ClientAddress}.")]
    private partial void LogRemoval(string userId, FactorRemovalStatus outcome, System.Net.IPAddress? clientAddress);

    [LoggerMessage(EventId = 1204, Level = LogLevel.Information, Message = "Second sign-in step: {Outcome} for user {UserId} from {ClientAddress}.")]
    private partial void LogSecondStep(FinishStatus outcome, string? userId, System.Net.IPAddress? clientAddress);
}
