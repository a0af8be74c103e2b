using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using AuthFunctions.Mfa;
using static System.FormattableString;

namespace AuthFunctions.Benchmarks;

/// <summary>
/// Login with an authenticator code beside password-only login, through the host: the same number of logins of
/// accounts with and without an active factor (bcrypt cost 12 both), one after another, CPU of host and worker per
/// login. Each account signs in once with a code (a time step is accepted once per account), the code of the next step
/// (inside the window; the confirmation spent the current one).
/// </summary>
internal static class MfaLogin
{
    public static async Task RunAsync(FunctionsHostInstance app, int logins)
    {
        using var client = Stack.Client(app);
        var plain = new List<string>();
        var withFactor = new List<(string Email, byte[] Secret)>();
        for (int i = 0; i < logins; i++)
        {
            string email = $"bench-pwd-{Guid.NewGuid():N}@example.com";
            await Stack.RegisterAndLoginAsync(client, email, Stack.BenchmarkPassword);
            plain.Add(email);

            string mfaEmail = $"bench-mfa-{Guid.NewGuid():N}@example.com";
            var (access, _) = await Stack.RegisterAndLoginAsync(client, mfaEmail, Stack.BenchmarkPassword);
            using var enrolRequest = new HttpRequestMessage(HttpMethod.Post, "/api/mfa/totp");
            enrolRequest.Headers.Authorization = new("Bearer", access);
            var enrol = await (await client.SendAsync(enrolRequest)).Content.ReadFromJsonAsync<JsonElement>();
            byte[] secret = OtpNet.Base32Encoding.ToBytes(enrol.GetProperty("secret").GetString()!);
            using var confirmRequest = new HttpRequestMessage(HttpMethod.Post, "/api/mfa/totp/confirm")
            {
                Content = JsonContent.Create(new { code = Authenticator.Compute(secret, DateTimeOffset.UtcNow) }),
            };
            confirmRequest.Headers.Authorization = new("Bearer", access);
            (await client.SendAsync(confirmRequest)).EnsureSuccessStatusCode();
            withFactor.Add((mfaEmail, secret));
        }

        var (passwordCpu, passwordOk) = await MeasureAsync(app, plain.Select(email => (object)new { email, password = Stack.BenchmarkPassword }), client);
        var (codeCpu, codeOk) = await MeasureAsync(app, withFactor.Select(user => (object)new
        {
            email = user.Email, password = Stack.BenchmarkPassword, totp_code = Authenticator.Compute(user.Secret, DateTimeOffset.UtcNow.AddSeconds(30)),
        }), client);
        Console.WriteLine(Invariant($"bench=login_with_code logins={logins} ok={codeOk} cpu_ms_per_login={codeCpu:0.0} ") +
            Invariant($"password_only_ok={passwordOk} password_only_cpu_ms_per_login={passwordCpu:0.0} ratio={codeCpu / passwordCpu:0.00}"));
    }

    private static async Task<(double CpuMsPerLogin, int Ok)> MeasureAsync(FunctionsHostInstance app, IEnumerable<object> bodies, HttpClient client)
    {
        var list = bodies.ToList();
        var before = app.HostCpuTime() + app.WorkerCpuTime();
        int ok = 0;
        foreach (var body in list)
        {
            if ((await client.PostAsJsonAsync("/api/login", body)).IsSuccessStatusCode)
            {
                ok++;
            }
        }
        var cpu = app.HostCpuTime() + app.WorkerCpuTime() - before;
        return (cpu.TotalMilliseconds / list.Count, ok);
    }
}
