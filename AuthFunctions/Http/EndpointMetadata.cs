namespace AuthFunctions.Http;

/// <summary>What a handler's signature cannot say, declared for the OpenAPI document: the bodies it reads itself and its Problem Details answers.</summary>
public static class EndpointMetadata
{
    /// <summary>The handler reads <typeparamref name="TRequest"/> from JSON or a form (see <see cref="RequestBody"/>).</summary>
    public static RouteHandlerBuilder AcceptsBody<TRequest>(this RouteHandlerBuilder builder) where TRequest : notnull =>
        builder.Accepts<TRequest>("application/json", "application/x-www-form-urlencoded");

    /// <summary>Each status answers RFC 9457 Problem Details.</summary>
    public static RouteHandlerBuilder ProducesProblems(this RouteHandlerBuilder builder, params int[] statusCodes)
    {
        ArgumentNullException.ThrowIfNull(statusCodes);
        foreach (int status in statusCodes)
        {
            builder.ProducesProblem(status);
        }
        return builder;
    }
}
