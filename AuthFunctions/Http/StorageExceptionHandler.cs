using AuthFunctions.Storage;
using Microsoft.AspNetCore.Diagnostics;

namespace AuthFunctions.Http;

/// <summary>
/// Storage failures become 503 Problem Details with <c>Retry-After</c>; anything else a bare 500
/// Problem Details. Never a stack trace in a response; the log gets the status and error code.
/// </summary>
public sealed partial class StorageExceptionHandler(IProblemDetailsService problemDetails, ILogger<StorageExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        if (exception is not TableStorageException storage)
        {
            return false;
        }
        LogStorageFailure(storage.Status, storage.ErrorCode, storage.Message);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = "5";
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Service unavailable",
                Detail = "The user store is unavailable. Try again shortly.",
            },
        });
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Table Storage failed: status {Status}, code {ErrorCode}: {Detail}")]
    private partial void LogStorageFailure(int status, string? errorCode, string detail);
}
