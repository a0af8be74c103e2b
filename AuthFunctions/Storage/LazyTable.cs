namespace AuthFunctions.Storage;

/// <summary>
/// A table created on first use rather than at start-up, so the app starts (and answers health
/// checks with 503) while storage is down, and start-up does no I/O. A failed creation is retried
/// by the next caller.
/// </summary>
public sealed class LazyTable(TableClient client)
{
    private Task? _created;

    public async ValueTask<TableClient> GetAsync(CancellationToken cancellationToken = default)
    {
        var created = _created;
        if (created is { IsCompletedSuccessfully: true })
        {
            return client;
        }
        if (created is null || created.IsFaulted || created.IsCanceled)
        {
            created = client.CreateIfNotExistsAsync(CancellationToken.None);
            _created = created;
        }
        await created.WaitAsync(cancellationToken);
        return client;
    }
}
