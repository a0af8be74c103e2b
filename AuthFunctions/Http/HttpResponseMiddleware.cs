using AuthFunctions.Storage;
using Microsoft.Azure.Functions.Worker.Middleware;

namespace AuthFunctions.Http;

/// <summary>
/// Outermost: marks the invocation (see <see cref="Hosting.FunctionInvocation"/>); on HTTP functions, the response headers every answer carries, and the answer to a failure. A storage
/// failure is 503 Problem Details with <c>Retry-After</c>; anything else 500 Problem Details. Never a stack trace in a
/// response; the log gets the status and error code. A timer invocation passes through untouched.
/// </summary>
public sealed partial class HttpResponseMiddleware(ILogger<HttpResponseMiddleware> logger) : IFunctionsWorkerMiddleware
{
    /// <summary>The wait every 503 asks for (health's too).</summary>
    public const string RetryAfterSeconds = "5";

    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        Hosting.FunctionInvocation.Enter();
        if (context.GetHttpContext() is not { } http)
        {
            await next(context);
            return;
        }
        var publicCache = FunctionCatalog.For(context.FunctionDefinition)?.PublicCache;
        http.Response.OnStarting(() => AddSecurityHeaders(http.Response, publicCache));
        try
        {
            await next(context);
        }
        catch (Exception failure) when (Unwrap(failure) is TableStorageException storage)
        {
            LogStorageFailure(storage.Status, storage.ErrorCode, storage.Message);
            http.Response.Headers.RetryAfter = RetryAfterSeconds;
            context.Answer(Problems.StorageUnavailable());
        }
        catch (Exception failure) when (!http.RequestAborted.IsCancellationRequested)
        {
            LogUnhandled(context.FunctionDefinition.Name, failure.GetType().FullName);
            context.Answer(TypedResults.Problem("The request failed on our side.", statusCode: StatusCodes.Status500InternalServerError, title: "Internal error"));
        }
    }

    /// <summary>A storage failure as thrown, or as the inner exception of a wrapper (a function's own Task.WhenAll, say).</summary>
    private static Exception Unwrap(Exception failure) => failure.InnerException is TableStorageException inner ? inner : failure;

    /// <summary>
    /// No response of an auth API may be cached (tokens, user data, errors alike): RFC 6749 §5.1, ASVS 14.3.2. The one
    /// exception is a success of a function marked <see cref="PublicCacheAttribute"/> (the public JWKS).
    /// </summary>
    private static Task AddSecurityHeaders(HttpResponse response, PublicCacheAttribute? publicCache)
    {
        var headers = response.Headers;
        if (response.StatusCode == StatusCodes.Status200OK && publicCache is not null)
        {
            headers.CacheControl = publicCache.CacheControl;
        }
        else
        {
            headers.CacheControl = "no-store";
            headers.Pragma = "no-cache";
        }
        headers.XContentTypeOptions = "nosniff";
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Table Storage failed: status {Status}, code {ErrorCode}: {Detail}")]
    private partial void LogStorageFailure(int status, string? errorCode, string detail);

    [LoggerMessage(Level = LogLevel.Error, Message = "Function {Function} failed with {ExceptionType}.")]
    private partial void LogUnhandled(string function, string? exceptionType);
}
