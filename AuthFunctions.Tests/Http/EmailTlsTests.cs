using System.Globalization;
using System.Net;
using AuthFunctions.Tests.Infrastructure;

namespace AuthFunctions.Tests.Http;

/// <summary>
/// README (Account lifecycle, SMTP providers; Settings, <c>Email__UseTls</c>): "<c>Email__UseTls=true</c> requires
/// STARTTLS ...; it is never downgraded." Each case runs the product under the host against a real SMTP server
/// (<see cref="SmtpTestServer"/>: aiosmtpd) that reports every step the app took on it and whether it was encrypted.
/// The test CA is trusted only as any CA is: through the worker's root store (<c>SSL_CERT_FILE</c>, the system bundle
/// plus the test CA), never through a product setting; the product's certificate validation is MailKit's default: chain
/// to a trusted CA, the host name, and revocation (the test CA publishes a CRL, which lists <c>Revoked</c>).
/// </summary>
public sealed class EmailTlsTests : IAsyncLifetime
{
    private const string SmtpUser = "mailer";
    private const string SmtpSecret = "smtp-secret-that-must-never-travel-in-clear";

    private TestCertificateAuthority? _ca;

    private TestCertificateAuthority Authority => _ca ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync() => _ca = await TestCertificateAuthority.StartAsync();

    /// <summary>The app's Email settings for <paramref name="server"/>, TLS on or off; null values unset.</summary>
    private Dictionary<string, string?> EmailSettings(SmtpTestServer server, bool useTls, bool trustTestCa, bool withCredentials = false) => new()
    {
        ["Email:SmtpHost"] = "127.0.0.1",
        ["Email:SmtpPort"] = server.Port.ToString(CultureInfo.InvariantCulture),
        ["Email:UseTls"] = useTls ? "true" : "false",
        ["Email:SmtpUser"] = withCredentials ? SmtpUser : null,
        ["Email:SmtpPassword"] = withCredentials ? SmtpSecret : null,
        ["SSL_CERT_FILE"] = trustTestCa ? Authority.TrustedBundleFile : null,
    };

    private static readonly string[] MailSteps = ["auth", "mail", "rcpt", "data"];

    [Fact]
    public async Task WithTlsAServerOfferingStartTlsGetsTheMailOnlyAfterTheHandshake()
    {
        await using var server = await SmtpTestServer.StartAsync(SmtpTlsMode.StartTls, Authority.Valid);
        await using var app = await TestApp.StartAsync(EmailSettings(server, useTls: true, trustTestCa: true, withCredentials: true));
        string email = TestApp.UniqueEmail();

        Assert.Equal(HttpStatusCode.Created, (await app.RegisterAsync(email)).StatusCode);

        var data = await server.WaitForAsync(e => e.Name == "data");
        Assert.True(data.Tls);
        Assert.NotNull(data.Cipher);
        Assert.Equal([email], data.To);
        Assert.Contains("verify-email?token=", data.Content, StringComparison.Ordinal);
        // The whole order: a plain EHLO, STARTTLS, and everything after it encrypted, the credentials included.
        var steps = server.Events;
        Assert.Equal(["ehlo", "starttls", "ehlo", "auth", "mail", "rcpt", "data"], steps.Select(e => e.Name));
        Assert.Equal([false, true, true, true, true, true, true], steps.Select(e => e.Tls)); // "starttls" is reported once the handshake is done
        await app.Logs.WaitForAsync(log => log.EventId.Id == 3001 && log.State.GetValueOrDefault("Kind") == "email-verification");
    }

    [Fact]
    public async Task WithTlsAServerThatDoesNotOfferStartTlsGetsNothingAndTheFailureIsLoggedWithoutSecrets()
    {
        await using var server = await SmtpTestServer.StartAsync(SmtpTlsMode.Plain);

        await RegisterAndExpectTheSendRefusedAsync(server, trustTestCa: true);

        // The app connected and read the server's capabilities, then stopped: no credentials, sender, recipient or
        // message went over the unencrypted connection (the server even invited AUTH in the clear).
        Assert.Equal(["ehlo"], server.Events.Select(e => e.Name));
    }

    [Fact]
    public async Task WithTlsAServerWhoseCertificateIsNotTrustedGetsNothing()
    {
        await using var server = await SmtpTestServer.StartAsync(SmtpTlsMode.StartTls, Authority.Valid);

        // The same server as the delivering case, but the worker trusts only the system's CAs.
        await RegisterAndExpectTheSendRefusedAsync(server, trustTestCa: false);

        Assert.Equal("ehlo", server.Events[0].Name);
    }

    [Fact]
    public async Task WithTlsAServerWhoseCertificateWasRevokedGetsNothing()
    {
        await using var server = await SmtpTestServer.StartAsync(SmtpTlsMode.StartTls, Authority.Revoked);

        // A trusted CA, but its CRL (the certificate's distribution point) lists this certificate.
        await RegisterAndExpectTheSendRefusedAsync(server, trustTestCa: true);

        Assert.Equal("ehlo", server.Events[0].Name);
    }

    /// <summary>
    /// Registers (201 at once: sending is the outbox's) with TLS on and SMTP credentials set (which a STARTTLS server here
    /// accepts, so a connection that went on would deliver); the send fails and is logged
    /// (Error, its kind and error type) without the credentials, address or link, and the server saw no AUTH, MAIL, RCPT or DATA.
    /// </summary>
    private async Task RegisterAndExpectTheSendRefusedAsync(SmtpTestServer server, bool trustTestCa)
    {
        await using var app = await TestApp.StartAsync(EmailSettings(server, useTls: true, trustTestCa, withCredentials: true));
        string email = TestApp.UniqueEmail();

        Assert.Equal(HttpStatusCode.Created, (await app.RegisterAsync(email)).StatusCode);

        // Generous: a refused certificate can cost the sender its connect and revocation-check time-outs on a loaded machine.
        var failed = await app.Logs.WaitForAsync(log => log.EventId.Id == 3002, TimeSpan.FromSeconds(45));
        Assert.Equal(LogLevel.Error, failed.Level);
        Assert.Equal("email-verification", failed.State.GetValueOrDefault("Kind"));
        Assert.False(string.IsNullOrEmpty(failed.State.GetValueOrDefault("ErrorType")));
        Assert.DoesNotContain(server.Events, e => MailSteps.Contains(e.Name));
        string logs = app.Logs.AllText;
        Assert.DoesNotContain(SmtpSecret, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(email, logs, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("token=", logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutTlsTheMailGoesInTheClearAsConfigured()
    {
        await using var server = await SmtpTestServer.StartAsync(SmtpTlsMode.Plain);
        await using var app = await TestApp.StartAsync(EmailSettings(server, useTls: false, trustTestCa: false));
        string email = TestApp.UniqueEmail();

        Assert.Equal(HttpStatusCode.Created, (await app.RegisterAsync(email)).StatusCode);

        var data = await server.WaitForAsync(e => e.Name == "data");
        Assert.False(data.Tls);
        Assert.Equal([email], data.To);
        Assert.Contains("verify-email?token=", data.Content, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Events, e => e.Name == "starttls");
    }

    public async Task DisposeAsync()
    {
        if (_ca is not null)
        {
            await _ca.DisposeAsync();
        }
    }
}
