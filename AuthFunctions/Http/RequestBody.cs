using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace AuthFunctions.Http;

/// <summary>A request body read as T, or the Problem Details answer for why it could not be.</summary>
public readonly record struct BodyResult<T>(T? Value, ProblemHttpResult? Problem) where T : class
{
    /// <summary>This result, or a 400 naming <paramref name="name"/> when the body was read but that field is missing or empty.</summary>
    public BodyResult<T> Require(Func<T, string?> field, string name)
    {
        ArgumentNullException.ThrowIfNull(field);
        return Problem is null && string.IsNullOrEmpty(field(Value!)) ? new(null, Problems.BadRequest($"{name} is required.")) : this;
    }
}

/// <summary>
/// Reads small JSON or form bodies strictly: bounded size (413), known media types (415), one JSON
/// object without duplicate keys, valid UTF-8 (400). Error details name the place, never the input.
/// A body that never arrives in full is the client's failure, not the app's: a body not in within
/// <see cref="ArrivalDeadline"/> gets 408, one that ends early gets 400 (when an answer can still reach the
/// client), one whose connection breaks gets no answer, and each is one log line without a stack trace.
/// Through the Functions host this covers what reaches the worker while it is still arriving: chunked
/// bodies, which the host streams through. A body with a Content-Length is read in full by the host
/// before the worker is invoked (its HTTP trigger binding), so a stalled, cut or reset one never reaches
/// this code: the host answers it (a stall: an empty 500 after about 5 s; a cut or reset: no answer).
/// </summary>
public static partial class RequestBody
{
    public const int MaxBytes = 4 * 1024;

    /// <summary>
    /// How long a body of at most <see cref="MaxBytes"/> may take to arrive once the function starts reading it. 4 KiB
    /// is one TCP round trip even on a slow mobile link (well under a second), so 2 s refuses no honest client; it is
    /// also well inside the host's own limit (its Kestrel fails a body read that has no data for 5 s, then answers an
    /// empty 500), with room for the host hop on a busy instance. Seen with the shared host: the worker gives up on a
    /// stalled chunked body at 2 s with one log line, but the host's proxy holds the 408 until it has sent the whole
    /// body, so the client still gets the host's empty 500 (at ~7.5 s); a proxy that passes an early answer on delivers the 408.
    /// </summary>
    public static readonly TimeSpan ArrivalDeadline = TimeSpan.FromSeconds(2);

    // The source-generated options, made strict for reading requests: duplicate keys are an error rather
    // than last-one-wins (no smuggling a second "email"). Made once per options instance.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<JsonSerializerOptions, JsonSerializerOptions> StrictOptions = new();
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static async Task<BodyResult<T>> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> jsonType, Func<IReadOnlyDictionary<string, string>, T> fromForm, CancellationToken cancellationToken,
        int maxBytes = MaxBytes)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(fromForm);
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType))
        {
            return new(null, Problems.UnsupportedMediaType());
        }
        bool isJson = mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) ||
                      mediaType.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase);
        bool isForm = mediaType.MediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase);
        if ((!isJson && !isForm) || (mediaType.Charset.HasValue && !mediaType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)))
        {
            return new(null, Problems.UnsupportedMediaType());
        }
        if (request.ContentLength > maxBytes)
        {
            return new(null, Problems.PayloadTooLarge(maxBytes));
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(maxBytes + 1);
        try
        {
            int length = 0;
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, request.HttpContext.RequestAborted);
            deadline.CancelAfter(ArrivalDeadline);
            try
            {
                int read;
                while (length <= maxBytes && (read = await request.Body.ReadAsync(buffer.AsMemory(length, maxBytes + 1 - length), deadline.Token)) > 0)
                {
                    length += read;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && !request.HttpContext.RequestAborted.IsCancellationRequested)
            {
                // Our own deadline, not the caller going away: the client is still there and gets the answer.
                return new(null, Incomplete(request, StatusCodes.Status408RequestTimeout));
            }
            catch (BadHttpRequestException incomplete)
            {
                // Kestrel's own verdict: 408 for the minimum data rate, 400 for a body shorter than its Content-Length.
                return new(null, Incomplete(request, incomplete.StatusCode));
            }
            catch (Exception lost) when (lost is IOException or OperationCanceledException)
            {
                return new(null, ConnectionLost(request, lost is IOException ? "connection reset" : "request aborted"));
            }
            if (length > maxBytes)
            {
                return new(null, Problems.PayloadTooLarge(maxBytes));
            }
            var body = buffer.AsSpan(0, length);
            return isJson ? ParseJson(body, jsonType) : ParseForm(body, fromForm);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }

    private static ProblemHttpResult Incomplete(HttpRequest request, int status)
    {
        var logger = Logger(request);
        var (reason, problem) = status switch
        {
            StatusCodes.Status408RequestTimeout => ("arrived too slowly", Problems.RequestTimeout($"The request body did not arrive within {ArrivalDeadline.TotalSeconds:0} seconds.")),
            StatusCodes.Status413PayloadTooLarge => ("too large", Problems.PayloadTooLarge(MaxBytes)),
            _ => ("ended early", Problems.BadRequest("The request body did not arrive in full.")),
        };
        LogIncomplete(logger, reason, problem.StatusCode);
        return problem;
    }

    /// <summary>
    /// The client is gone, so no answer can reach it. Aborting tells Kestrel so: it would otherwise try
    /// to drain the rest of the body after the endpoint returns and log the failed read as an error.
    /// </summary>
    private static ProblemHttpResult ConnectionLost(HttpRequest request, string reason)
    {
        var logger = Logger(request);
        LogConnectionLost(logger, reason);
        request.HttpContext.Abort();
        return Problems.BadRequest("The request body did not arrive in full.");
    }

    private static ILogger Logger(HttpRequest request) =>
        request.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RequestBody).FullName!);

    [LoggerMessage(Level = LogLevel.Information, Message = "Request body not received in full ({Reason}); answered {Status}.")]
    private static partial void LogIncomplete(ILogger logger, string reason, int status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Request body not received in full ({Reason}); the connection is closed without an answer.")]
    private static partial void LogConnectionLost(ILogger logger, string reason);

    private static BodyResult<T> ParseJson<T>(ReadOnlySpan<byte> body, JsonTypeInfo<T> jsonType) where T : class
    {
        var start = body.TrimStart(" \t\r\n"u8);
        if (start.IsEmpty || start[0] != (byte)'{')
        {
            return new(null, Problems.BadRequest("The body must be a JSON object."));
        }
        try
        {
            var typeInfo = (JsonTypeInfo<T>)StrictOptions.GetValue(jsonType.Options, Strict).GetTypeInfo(jsonType.Type);
            var value = JsonSerializer.Deserialize(body, typeInfo);
            return value is null ? new(null, Problems.BadRequest("The body must be a JSON object.")) : new(value, null);
        }
        catch (JsonException ex)
        {
            string where = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "" : $" at '{ex.Path}'";
            return new(null, Problems.BadRequest($"The body is not valid JSON for this function{where}: check syntax, field types, duplicate fields and UTF-8 encoding."));
        }
    }

    private static BodyResult<T> ParseForm<T>(ReadOnlySpan<byte> body, Func<IReadOnlyDictionary<string, string>, T> fromForm) where T : class
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(body);
        }
        catch (DecoderFallbackException)
        {
            return new(null, Problems.BadRequest("The form body is not valid UTF-8."));
        }
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, values) in QueryHelpers.ParseQuery(text))
        {
            if (values.Count != 1)
            {
                return new(null, Problems.BadRequest($"The form field '{key}' appears more than once."));
            }
            fields[key] = values[0] ?? "";
        }
        return new(fromForm(fields), null);
    }

    private static JsonSerializerOptions Strict(JsonSerializerOptions options) => new(options)
    {
        AllowDuplicateProperties = false,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Skip,
    };
}
