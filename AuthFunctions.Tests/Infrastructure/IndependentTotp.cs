using System.Diagnostics;
using System.Globalization;

namespace AuthFunctions.Tests.Infrastructure;

/// <summary>
/// TOTP codes from implementations that are not ours (Debian's <c>oathtool</c> and <c>python3-pyotp</c>): every code the
/// tests send the app comes from here, computed from the base32 secret the app returned, so a wrong secret, URI or code
/// path in the app cannot agree with itself.
/// </summary>
public static class IndependentTotp
{
    public static Task<string> OathtoolAsync(string base32Secret, DateTimeOffset at) =>
        RunAsync("oathtool", "--totp", "-b", "-N", "@" + at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), base32Secret);

    public static Task<string> PyotpAsync(string base32Secret, DateTimeOffset at) =>
        RunAsync("/usr/bin/python3", "-c", "import pyotp, sys; print(pyotp.TOTP(sys.argv[1]).at(int(sys.argv[2])))",
            base32Secret, at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));

    /// <summary>oathtool and pyotp must agree, then the code is theirs.</summary>
    public static async Task<string> CodeAsync(string base32Secret, DateTimeOffset at)
    {
        string oath = await OathtoolAsync(base32Secret, at);
        Assert.Equal(oath, await PyotpAsync(base32Secret, at));
        return oath;
    }

    private static async Task<string> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        string output = await process.StandardOutput.ReadToEndAsync();
        string error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{program} failed (scripts/setup --test-tools installs it): {error}");
        string code = output.Trim();
        Assert.Matches("^[0-9]{6}$", code);
        return code;
    }
}

/// <summary>A user with an active authenticator, as the tests make one through the app's own functions.</summary>
public sealed record MfaUser(string Email, string UserId, TokenPair Aal1Tokens, string Secret, IReadOnlyList<string> RecoveryCodes);

public static class MfaSteps
{
    /// <summary>Registers, logs in (aal1), enrols and confirms with a code from oathtool/pyotp; then moves the clock to the next time step.</summary>
    public static async Task<MfaUser> NewMfaUserAsync(this TestApp app, string tag = "mfa")
    {
        var (email, tokens) = await app.NewUserAsync(tag);
        string userId = TokenForge.Payload(tokens.Access)["sub"]!.GetValue<string>();
        var enrol = await ProblemAssert.JsonAsync(await app.PostAsync("/api/mfa/totp", tokens.Access), System.Net.HttpStatusCode.OK);
        string secret = enrol.GetProperty("secret").GetString()!;
        string code = await IndependentTotp.CodeAsync(secret, app.Clock.GetUtcNow());
        var confirmed = await ProblemAssert.JsonAsync(await app.PostAsync("/api/mfa/totp/confirm", tokens.Access, new { code }), System.Net.HttpStatusCode.OK);
        app.Clock.Advance(TimeSpan.FromSeconds(30)); // the confirmation spent this step's code
        return new MfaUser(email, userId, tokens, secret, [.. confirmed.GetProperty("recovery_codes").EnumerateArray().Select(c => c.GetString()!)]);
    }

    public static Task<string> CodeNowAsync(this TestApp app, MfaUser user, int steps = 0) =>
        IndependentTotp.CodeAsync(user.Secret, app.Clock.GetUtcNow() + TimeSpan.FromSeconds(30 * steps));
}
