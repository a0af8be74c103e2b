using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Email;

/// <summary>
/// Email work done after the response: a request only queues a job (which reads storage, issues a link
/// and composes the message) and returns, so a slow or unreachable SMTP server never makes a request slow
/// or failed, and a request for an unknown account does exactly the same work as one for a known account
/// (no enumeration by answer or by timing). A job that fails is logged without address, token or link;
/// the user asks again (resend). A bounded queue: when it is full the job is dropped and logged.
/// </summary>
public sealed partial class EmailOutbox : BackgroundService
{
    public const string QueuedInstrument = "authfunctions.email.queued";
    private const int Capacity = 1000;
    private const int Workers = 4;

    private readonly Channel<(string Kind, Func<CancellationToken, Task<EmailMessage?>> Compose)> _jobs =
        Channel.CreateBounded<(string, Func<CancellationToken, Task<EmailMessage?>>)>(new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait });
    private readonly IEmailSender _sender;
    private readonly IOptions<EmailOptions> _options;
    private readonly ILogger<EmailOutbox> _logger;
    private readonly Counter<long> _queued;

    public EmailOutbox(IEmailSender sender, IOptions<EmailOptions> options, IMeterFactory meters, ILogger<EmailOutbox> logger)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _sender = sender;
        _options = options;
        _logger = logger;
        _queued = meters.Create("AuthFunctions.Email").CreateCounter<long>(QueuedInstrument, description: "Email jobs queued by requests.");
    }

    /// <summary>Queues a job of <paramref name="kind"/> (a label for logs, e.g. "password-reset"); a null message means nothing to send.</summary>
    public void Enqueue(string kind, Func<CancellationToken, Task<EmailMessage?>> compose)
    {
        _queued.Add(1, new KeyValuePair<string, object?>("kind", kind));
        if (!_jobs.Writer.TryWrite((kind, compose)))
        {
            LogQueueFull(kind);
        }
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.Value.Enabled)
        {
            LogDisabled();
        }
        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => Task.Run(() => WorkAsync(stoppingToken), CancellationToken.None)));

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var (kind, compose) in _jobs.Reader.ReadAllAsync(stoppingToken))
            {
                await RunAsync(kind, compose, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: queued jobs are lost; the user asks again.
        }
    }

    private async Task RunAsync(string kind, Func<CancellationToken, Task<EmailMessage?>> compose, CancellationToken stoppingToken)
    {
        try
        {
            if (await compose(stoppingToken) is not { } message)
            {
                return;
            }
            if (!_options.Value.Enabled)
            {
                LogSkipped(kind);
                return;
            }
            await _sender.SendAsync(message, stoppingToken);
            LogSent(kind);
        }
        catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
        {
            // The type only: SMTP and storage error messages can carry the recipient's address.
            LogFailed(kind, exception.GetType().Name);
        }
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Sent a {Kind} email.")]
    private partial void LogSent(string kind);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Error, Message = "A {Kind} email could not be sent ({ErrorType}); the user can ask for it again.")]
    private partial void LogFailed(string kind, string errorType);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Error, Message = "The email queue is full: a {Kind} email was dropped; the user can ask for it again.")]
    private partial void LogQueueFull(string kind);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Email__SmtpHost is not set: verification and password-reset emails are not sent (the requests still answer as usual).")]
    private partial void LogDisabled();

    [LoggerMessage(EventId = 3005, Level = LogLevel.Information, Message = "Skipped a {Kind} email: Email__SmtpHost is not set.")]
    private partial void LogSkipped(string kind);
}
