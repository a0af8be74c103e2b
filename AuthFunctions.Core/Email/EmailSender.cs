using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace AuthFunctions.Email;

/// <summary>One email: plain text and HTML alternatives of the same content.</summary>
public sealed record EmailMessage(string To, string Subject, string Text, string Html);

public interface IEmailSender
{
    /// <summary>Delivers one message or throws; never waits longer than <c>Email__TimeoutSeconds</c>.</summary>
    Task SendAsync(EmailMessage message, CancellationToken cancellationToken);
}

/// <summary>SMTP through MailKit: works with any provider (SendGrid, Mailgun, SES, Microsoft 365, Postfix) and with maildev locally.</summary>
public sealed class SmtpEmailSender(IOptions<EmailOptions> options) : IEmailSender
{
    public async Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var settings = options.Value;
        var mime = new MimeMessage();
        mime.From.Add(MailboxAddress.Parse(settings.From ?? ""));
        mime.To.Add(MailboxAddress.Parse(message.To));
        mime.Subject = message.Subject;
        mime.Body = new BodyBuilder { TextBody = message.Text, HtmlBody = message.Html }.ToMessageBody();

        var timeout = TimeSpan.FromSeconds(settings.TimeoutSeconds);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using var client = new SmtpClient { Timeout = (int)timeout.TotalMilliseconds };
        // With TLS on, STARTTLS is required (never the "when available" mode a man in the middle can strip).
        var security = !settings.UseTls ? SecureSocketOptions.None : settings.SmtpPort == 465 ? SecureSocketOptions.SslOnConnect : SecureSocketOptions.StartTls;
        await client.ConnectAsync(settings.SmtpHost ?? "", settings.SmtpPort, security, deadline.Token);
        if (!string.IsNullOrEmpty(settings.SmtpUser))
        {
            await client.AuthenticateAsync(settings.SmtpUser, settings.SmtpPassword ?? "", deadline.Token);
        }
        await client.SendAsync(mime, deadline.Token);
        await client.DisconnectAsync(quit: true, deadline.Token);
    }
}
