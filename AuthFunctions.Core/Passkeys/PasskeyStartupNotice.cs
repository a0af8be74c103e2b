using Microsoft.Extensions.Options;

namespace AuthFunctions.Passkeys;

/// <summary>Says at start when passkeys are off, so a deployment that meant to offer them finds out from its first log lines.</summary>
public sealed partial class PasskeyStartupNotice(IOptions<PasskeyOptions> options, ILogger<PasskeyStartupNotice> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled)
        {
            LogDisabled();
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 2300, Level = LogLevel.Information, Message = "Passkeys__RelyingPartyId and Passkeys__Origins are not set: passkeys are off and the passkey functions answer 404.")]
    private partial void LogDisabled();
}
