using System.Globalization;
using System.Net;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Email;

/// <summary>The two emails that carry a link: a clear subject, the link (its token in a <c>token</c> query parameter) and when it expires.</summary>
public sealed class LinkEmails(IOptions<EmailOptions> options)
{
    public const string VerifyPage = "verify-email";
    public const string ResetPage = "reset-password";

    public EmailMessage Verification(string to, string token, TimeSpan lifetime) => Compose(
        to,
        "Confirm your email address",
        "Confirm that this address belongs to your account by opening this link:",
        "Confirm my email address",
        Link(VerifyPage, token),
        lifetime,
        "If you did not create an account, ignore this email.");

    public EmailMessage PasswordReset(string to, string token, TimeSpan lifetime) => Compose(
        to,
        "Reset your password",
        "Someone (hopefully you) asked to reset the password of your account. Choose a new password here:",
        "Choose a new password",
        Link(ResetPage, token),
        lifetime,
        "If you did not ask for this, ignore this email: your password stays as it is.");

    private string Link(string page, string token) => $"{options.Value.LinkBase}{page}?token={Uri.EscapeDataString(token)}";

    private static EmailMessage Compose(string to, string subject, string intro, string action, string link, TimeSpan lifetime, string footer)
    {
        string expiry = lifetime.TotalHours >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{lifetime.TotalHours:0.#} hours")
            : string.Create(CultureInfo.InvariantCulture, $"{lifetime.TotalMinutes:0} minutes");
        string text = $"{intro}\n\n{link}\n\nThe link works once and expires in {expiry}.\n\n{footer}\n";
        string html =
            $"<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><p>{WebUtility.HtmlEncode(intro)}</p>" +
            $"<p><a href=\"{WebUtility.HtmlEncode(link)}\">{WebUtility.HtmlEncode(action)}</a></p>" +
            $"<p>The link works once and expires in {expiry}.</p><p>{WebUtility.HtmlEncode(footer)}</p></body></html>";
        return new EmailMessage(to, subject, text, html);
    }
}
