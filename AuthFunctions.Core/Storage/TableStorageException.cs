namespace AuthFunctions.Storage;

/// <summary>
/// The Table service failed in a way an endpoint cannot act on. <see cref="IsUnavailable"/> is true
/// for outages (unreachable, timed out, throttled, 5xx); otherwise the service refused the request
/// (for example 403 from a wrong key or missing role assignment). Either way the caller answers 503.
/// Messages carry the status and error code only: never URLs (they hold keys derived from emails) or credentials.
/// </summary>
public sealed class TableStorageException : Exception
{
    public TableStorageException()
    {
    }

    public TableStorageException(string message) : base(message)
    {
    }

    public TableStorageException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public TableStorageException(int status, string? errorCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Status = status;
        ErrorCode = errorCode;
    }

    /// <summary>HTTP status from the service; 0 when none arrived (network failure or time-out).</summary>
    public int Status { get; }

    /// <summary>The service's <c>x-ms-error-code</c> (or the code from the body when the header is absent).</summary>
    public string? ErrorCode { get; }

    public bool IsUnavailable => Status is 0 or 408 or 429 or >= 500;
}
