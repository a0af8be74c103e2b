using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AuthFunctions.Storage;
using AuthFunctions.Users;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Benchmarks;

/// <summary>
/// The physical limit of the storage check: the CPU this process spends on the very read the access-token
/// check makes (same client code, same Azurite, same concurrency), with no HTTP server around it.
/// `protected` cannot cost less than this plus the bare endpoint.
/// </summary>
internal static class StorageReadFloor
{
    public static async Task<double> MeasureAsync(Stack stack, string accessToken, TimeSpan duration, int concurrency)
    {
        var (userId, sessionId) = SubjectAndSession(accessToken);
        var settings = new StorageOptions { ConnectionString = stack.ConnectionString, TablePrefix = stack.TablePrefix };
        var sessions = new SessionStore(new StorageTables(StorageServiceExtensions.CreateServiceClient(settings), Options.Create(settings)));

        // First a warm-up of the same length, so the figure is not this process's JIT.
        await RunAsync(sessions, userId, sessionId, duration, concurrency);
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        long reads = await RunAsync(sessions, userId, sessionId, duration, concurrency);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        return cpu.TotalMilliseconds / reads;
    }

    private static async Task<long> RunAsync(SessionStore sessions, string userId, string sessionId, TimeSpan duration, int concurrency)
    {
        long reads = 0;
        var until = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (until.Elapsed < duration)
            {
                var state = await sessions.GetStateAsync(userId, sessionId, CancellationToken.None);
                if (state.Profile is null)
                {
                    throw new InvalidOperationException("the benchmark user's profile row was not found");
                }
                Interlocked.Increment(ref reads);
            }
        })));
        return reads;
    }

    private static (string UserId, string SessionId) SubjectAndSession(string accessToken)
    {
        string payload = accessToken.Split('.')[1];
        using var claims = JsonDocument.Parse(Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(payload)));
        return (claims.RootElement.GetProperty("sub").GetString()!, claims.RootElement.GetProperty("sid").GetString()!);
    }
}
