using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using AuthFunctions.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace AuthFunctions.Tests.Hosting;

/// <summary>
/// README (Settings, <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>): set, the worker exports its traces and logs over OTLP, and its
/// log lines go to the exporter rather than the host's log. The collector here is an HTTP endpoint on a free loopback
/// port that keeps what the worker posts to it (OTLP over HTTP, protobuf: a record's template and values travel as UTF-8 bytes).
/// </summary>
public sealed class OtlpExportTests
{
    [Fact]
    public async Task WithAnEndpointTheWorkerExportsItsTracesAndLogLines()
    {
        var received = new ConcurrentQueue<(string Path, byte[] Body)>();
        int port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        await using var collector = builder.Build();
        collector.MapPost("/v1/{signal}", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            received.Enqueue((request.Path.Value!, body.ToArray()));
            return Results.Bytes([], "application/x-protobuf");
        });
        await collector.StartAsync();
        await using var app = await TestApp.StartAsync(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{port}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        });
        string email = TestApp.UniqueEmail();

        var registered = await app.RegisterAsync(email);

        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        string userId = (await registered.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetString()!;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!(received.Any(r => r.Path == "/v1/traces") && received.Any(r => r.Path == "/v1/logs" && IsRegisteredRecord(Encoding.UTF8.GetString(r.Body), userId))))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the collector got {string.Join(", ", received.Select(r => r.Path))} in 30 s");
            await Task.Delay(200);
        }
        Assert.DoesNotContain($"Registered user {userId}", app.Logs.AllText, StringComparison.Ordinal);
    }

    /// <summary>The worker's "Registered user" record: its template as the body and the user id among its attributes.</summary>
    private static bool IsRegisteredRecord(string exported, string userId) =>
        exported.Contains("Registered user {UserId}", StringComparison.Ordinal) && exported.Contains(userId, StringComparison.Ordinal);
}
