using Azure;

namespace AuthFunctions.Storage;

/// <summary>An entity type stored in a table. Serialized with source-generated JSON; property names are the column names.</summary>
public interface ITableEntity
{
    string PartitionKey { get; }

    string RowKey { get; }
}

/// <summary>An entity as read, with the ETag to pass back for an optimistic update.</summary>
public sealed record TableEntity<T>(T Value, ETag ETag);

public enum TableWriteStatus
{
    Success,

    /// <summary>Insert of a key that exists (<c>EntityAlreadyExists</c>): the atomic way to claim a unique key.</summary>
    Conflict,

    /// <summary>The ETag given is stale (<c>UpdateConditionNotSatisfied</c>).</summary>
    PreconditionFailed,

    NotFound,
}

public readonly record struct TableWriteResult(TableWriteStatus Status, ETag ETag)
{
    public bool Succeeded => Status == TableWriteStatus.Success;
}

public enum TableUpdateMode
{
    Replace,
    Merge,
}
