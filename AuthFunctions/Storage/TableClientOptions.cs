using Azure.Core;

namespace AuthFunctions.Storage;

public sealed class TableClientOptions : ClientOptions
{
    public TableClientOptions()
    {
        // Fail fast: a login waiting on a dead store should become a 503 in seconds, not after
        // Azure.Core's default of 3 retries from 0.8 s plus 100 s network time-outs.
        Retry.Mode = RetryMode.Exponential;
        Retry.MaxRetries = 3;
        Retry.Delay = TimeSpan.FromMilliseconds(100);
        Retry.MaxDelay = TimeSpan.FromSeconds(1);
        Retry.NetworkTimeout = TimeSpan.FromSeconds(3);
        // Request URLs contain keys derived from user emails; keep them out of the SDK's event logs.
        Diagnostics.IsLoggingEnabled = false;
        Diagnostics.IsTelemetryEnabled = false;
    }

    /// <summary>Create the table when an operation finds it missing, then retry that operation once.</summary>
    public bool CreateTableIfMissing { get; set; }

    /// <summary>Upper bound on one operation including all retries.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(8);
}
