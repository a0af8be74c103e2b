namespace AuthFunctions.Http;

/// <summary>Marks the one kind of endpoint whose successful answers are public and cacheable (RFC 9111 §5.2.2.9).</summary>
public sealed class PublicCacheMetadata(TimeSpan maxAge)
{
    public string CacheControl { get; } = $"public, max-age={(int)maxAge.TotalSeconds}";
}
