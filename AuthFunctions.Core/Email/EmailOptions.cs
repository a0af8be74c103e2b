using Microsoft.Extensions.Options;
using MimeKit;
using AuthFunctions.Tokens;

namespace AuthFunctions.Email;

/// <summary>Settings section <c>Email</c>: the SMTP server that sends verification and password-reset links.</summary>
public sealed class EmailOptions
{
    public const string Section = "Email";

    /// <summary><c>Email__SmtpHost</c>: empty turns sending off (the flows still answer as usual; a warning says so at start).</summary>
    public string? SmtpHost { get; set; }

    /// <summary><c>Email__SmtpPort</c>: 587 (submission with STARTTLS) by default; 465 means TLS from the first byte.</summary>
    public int SmtpPort { get; set; } = 587;

    public string? SmtpUser { get; set; }

    public string? SmtpPassword { get; set; }

    /// <summary><c>Email__From</c>: e.g. <c>AuthFunctions &lt;no-reply@example.com&gt;</c>.</summary>
    public string? From { get; set; }

    /// <summary><c>Email__UseTls</c>: TLS to the server (required, never downgraded); false only for a local server such as maildev.</summary>
    public bool UseTls { get; set; } = true;

    /// <summary><c>Email__LinkBaseUrl</c>: the static site that links open, e.g. <c>https://app.example.com/</c>.</summary>
    public string? LinkBaseUrl { get; set; }

    /// <summary><c>Email__TimeoutSeconds</c>: the most one delivery may take (connect, TLS, auth, send) before it is given up and logged.</summary>
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary><c>Email__VerifyLinkHours</c>: lifetime of an email verification link.</summary>
    public int VerifyLinkHours { get; set; } = 24;

    /// <summary><c>Email__ResetLinkMinutes</c>: lifetime of a password reset link (short: it stands in for the password).</summary>
    public int ResetLinkMinutes { get; set; } = 30;

    public bool Enabled => !string.IsNullOrWhiteSpace(SmtpHost);

    /// <summary>The link base with exactly one trailing slash.</summary>
    public string LinkBase => (LinkBaseUrl ?? "").TrimEnd('/') + "/";
}

internal sealed class EmailOptionsValidator(IOptions<Tokens.AuthOptions> auth) : IValidateOptions<EmailOptions>
{
    public ValidateOptionsResult Validate(string? name, EmailOptions options)
    {
        var failures = new List<string>();
        if (options.Enabled)
        {
            if (options.SmtpPort is < 1 or > 65535)
            {
                failures.Add("Email__SmtpPort must be between 1 and 65535.");
            }
            if (string.IsNullOrWhiteSpace(options.From) || !MailboxAddress.TryParse(options.From, out _))
            {
                failures.Add("Email__From is required when Email__SmtpHost is set: an address such as 'AuthFunctions <no-reply@example.com>'.");
            }
            if (!Uri.TryCreate(options.LinkBaseUrl, UriKind.Absolute, out var link) || link.Scheme is not ("https" or "http") ||
                !string.IsNullOrEmpty(link.Query) || !string.IsNullOrEmpty(link.Fragment))
            {
                failures.Add("Email__LinkBaseUrl is required when Email__SmtpHost is set: the static site's absolute http(s) URL without query, e.g. https://app.example.com/.");
            }
            if (string.IsNullOrEmpty(options.SmtpUser) != string.IsNullOrEmpty(options.SmtpPassword))
            {
                failures.Add("Email__SmtpUser and Email__SmtpPassword are set together or not at all.");
            }
        }
        else if (auth.Value.RequireVerifiedEmail)
        {
            failures.Add("Auth__RequireVerifiedEmail needs Email__SmtpHost: without email nobody could verify an address and log in.");
        }
        if (options.TimeoutSeconds is < 1 or > 120)
        {
            failures.Add("Email__TimeoutSeconds must be between 1 and 120.");
        }
        if (options.VerifyLinkHours is < 1 or > 168)
        {
            failures.Add("Email__VerifyLinkHours must be between 1 and 168.");
        }
        if (options.ResetLinkMinutes is < 5 or > 1440)
        {
            failures.Add("Email__ResetLinkMinutes must be between 5 and 1440.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
