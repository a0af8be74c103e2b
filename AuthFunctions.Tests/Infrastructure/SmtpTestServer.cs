using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>What a client did on the server (<c>ehlo</c>, <c>starttls</c>, <c>auth</c>, <c>mail</c>, <c>rcpt</c>, <c>data</c>) and whether the session was encrypted then.</summary>
public sealed record SmtpEvent(string Name, bool Tls, string? Content, string? Cipher, IReadOnlyList<string> To);

/// <summary>
/// A real SMTP server with TLS, Debian's python3-aiosmtpd (<c>TestData/smtp-server.py</c>, installed by
/// <c>scripts/setup --test-tools</c>) on a free loopback port, that reports every step a client took and whether it was
/// encrypted. <see cref="SmtpTlsMode.StartTls"/> offers STARTTLS with a certificate issued by a test CA made here
/// (<see cref="TestCertificateAuthority"/>) and refuses mail before it; <see cref="SmtpTlsMode.Plain"/> never offers
/// STARTTLS (as a server whose STARTTLS a man in the middle stripped) and invites AUTH in the clear. Ended by closing its
/// standard input, then by its process id.
/// </summary>
public sealed class SmtpTestServer : IAsyncDisposable
{
    private const string Interpreter = "/usr/bin/python3";
    private readonly Process _process;
    private readonly ConcurrentQueue<SmtpEvent> _events = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StringBuilder _errors = new();

    private SmtpTestServer(Process process, int port)
    {
        _process = process;
        Port = port;
        process.OutputDataReceived += (_, line) => OnLine(line.Data);
        process.ErrorDataReceived += (_, line) =>
        {
            lock (_errors)
            {
                _errors.AppendLine(line.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Port { get; }

    /// <summary>Everything clients did so far, in order.</summary>
    public IReadOnlyList<SmtpEvent> Events => [.. _events];

    public static async Task<SmtpTestServer> StartAsync(SmtpTlsMode mode, TestServerCertificate? certificate = null)
    {
        int port = FreePort.Next();
        var start = new ProcessStartInfo(Interpreter)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "TestData", "smtp-server.py"));
        start.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        if (mode == SmtpTlsMode.StartTls)
        {
            ArgumentNullException.ThrowIfNull(certificate);
            start.ArgumentList.Add("starttls");
            start.ArgumentList.Add(certificate.CertificateFile);
            start.ArgumentList.Add(certificate.KeyFile);
        }
        else
        {
            start.ArgumentList.Add("plain");
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start.");
        var server = new SmtpTestServer(process, port);
        var started = await Task.WhenAny(server._ready.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(30)));
        if (started != server._ready.Task)
        {
            string errors = server.ErrorOutput;
            await server.DisposeAsync();
            throw new InvalidOperationException($"The aiosmtpd server did not start (install python3-aiosmtpd: scripts/setup --test-tools):\n{errors}");
        }
        return server;
    }

    private string ErrorOutput
    {
        get
        {
            lock (_errors)
            {
                return _errors.ToString();
            }
        }
    }

    private void OnLine(string? line)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            return;
        }
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        string name = root.GetProperty("event").GetString()!;
        if (name == "ready")
        {
            _ready.TrySetResult();
            return;
        }
        _events.Enqueue(new SmtpEvent(name, root.GetProperty("tls").GetBoolean(),
            root.TryGetProperty("content", out var content) ? content.GetString() : null,
            root.TryGetProperty("cipher", out var cipher) && cipher.ValueKind == JsonValueKind.Array ? cipher[0].GetString() : null,
            root.TryGetProperty("to", out var to) ? [.. to.EnumerateArray().Select(a => a.GetString()!)] : []));
    }

    /// <summary>Waits (up to 15 s) until an event matching <paramref name="match"/> has happened.</summary>
    public async Task<SmtpEvent> WaitForAsync(Func<SmtpEvent, bool> match)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (Events.FirstOrDefault(match) is { } found)
            {
                return found;
            }
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(15), $"The SMTP server saw no such step within 15 s; it saw: {string.Join(", ", Events.Select(e => e.Name))}\n{ErrorOutput}");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (Exception failure) when (failure is OperationCanceledException or IOException or InvalidOperationException)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        _process.Dispose();
    }
}

public enum SmtpTlsMode
{
    /// <summary>Offers STARTTLS and refuses mail before it.</summary>
    StartTls,

    /// <summary>Never offers STARTTLS; offers AUTH in the clear.</summary>
    Plain,
}

/// <summary>
/// A certificate authority made for one test, with server certificates it issued for 127.0.0.1 (PEM files in a
/// temporary folder) and its certificate revocation list served over HTTP on a free loopback port (the certificates'
/// CRL distribution point): TLS clients that check revocation, as MailKit does by default, can check these too.
/// <see cref="TrustedBundleFile"/> is the system's CA bundle plus this CA: a process started with <c>SSL_CERT_FILE</c>
/// pointing at it (OpenSSL's variable, which .NET on Linux reads for its root store) trusts the test server as it trusts
/// any public one, through the same full validation. <see cref="Revoked"/> is a certificate the CRL lists.
/// </summary>
public sealed class TestCertificateAuthority : IAsyncDisposable
{
    private const string SystemBundle = "/etc/ssl/certs/ca-certificates.crt";
    private readonly string _folder;
    private readonly WebApplication _crlServer;

    private TestCertificateAuthority(string folder, WebApplication crlServer, TestServerCertificate valid, TestServerCertificate revoked, string trustedBundle)
    {
        _folder = folder;
        _crlServer = crlServer;
        Valid = valid;
        Revoked = revoked;
        TrustedBundleFile = trustedBundle;
    }

    /// <summary>A server certificate in good standing.</summary>
    public TestServerCertificate Valid { get; }

    /// <summary>A server certificate this CA revoked.</summary>
    public TestServerCertificate Revoked { get; }

    /// <summary>The system's CA bundle plus this CA.</summary>
    public string TrustedBundleFile { get; }

    public static async Task<TestCertificateAuthority> StartAsync()
    {
        string folder = Path.Combine(Path.GetTempPath(), "authfunctions-ca-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        int crlPort = FreePort.Next();
        string crlUrl = $"http://127.0.0.1:{crlPort}/ca.crl";
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=AuthFunctions Tests CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(2));

        var valid = Issue(ca, crlUrl, now, folder, "valid", out _);
        var revoked = Issue(ca, crlUrl, now, folder, "revoked", out byte[] revokedSerial);
        var crl = new CertificateRevocationListBuilder();
        crl.AddEntry(revokedSerial, now.AddMinutes(-1), X509RevocationReason.KeyCompromise);
        byte[] crlBytes = crl.Build(ca, BigInteger.One, now.AddDays(1), HashAlgorithmName.SHA256, thisUpdate: now.AddMinutes(-1));

        string trustedBundle = Path.Combine(folder, "trusted.crt");
        string system = File.Exists(SystemBundle) ? await File.ReadAllTextAsync(SystemBundle) : "";
        await File.WriteAllTextAsync(trustedBundle, system + "\n" + ca.ExportCertificatePem() + "\n");

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{crlPort}");
        builder.Logging.ClearProviders();
        var server = builder.Build();
        server.MapGet("/ca.crl", () => Results.Bytes(crlBytes, "application/pkix-crl"));
        await server.StartAsync();
        return new TestCertificateAuthority(folder, server, valid, revoked, trustedBundle);
    }

    private static TestServerCertificate Issue(X509Certificate2 ca, string crlUrl, DateTimeOffset now, string folder, string name, out byte[] serial)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        request.CertificateExtensions.Add(CertificateRevocationListBuilder.BuildCrlDistributionPointExtension([crlUrl]));
        serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7f;
        using var certificate = request.Create(ca, now.AddMinutes(-5), now.AddDays(1), serial);
        var files = new TestServerCertificate(Path.Combine(folder, name + ".crt"), Path.Combine(folder, name + ".key"));
        File.WriteAllText(files.CertificateFile, certificate.ExportCertificatePem() + "\n");
        File.WriteAllText(files.KeyFile, key.ExportPkcs8PrivateKeyPem() + "\n");
        return files;
    }

    public async ValueTask DisposeAsync()
    {
        await _crlServer.DisposeAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A server certificate and its private key, PEM files.</summary>
public sealed record TestServerCertificate(string CertificateFile, string KeyFile);
