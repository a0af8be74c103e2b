using AuthFunctions.Auth;
using AuthFunctions.Sessions;

namespace AuthFunctions.Http;

/// <summary>What the worker middleware hands a function through its <see cref="FunctionContext"/>.</summary>
public static class FunctionContextExtensions
{
    private static readonly object UserKey = typeof(AuthenticatedUser);

    /// <summary>The caller the access-token middleware established; only protected functions have one.</summary>
    public static AuthenticatedUser GetAuthenticatedUser(this FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Items.TryGetValue(UserKey, out var user) && user is AuthenticatedUser authenticated
            ? authenticated
            : throw new InvalidOperationException($"Function {context.FunctionDefinition.Name} is not marked [{nameof(RequireAccessTokenAttribute)}].");
    }

    internal static void SetAuthenticatedUser(this FunctionContext context, AuthenticatedUser user) => context.Items[UserKey] = user;

    /// <summary>Answers the invocation with <paramref name="result"/> without running the function (the middleware short-circuit).</summary>
    internal static void Answer(this FunctionContext context, IResult result) => context.GetInvocationResult().Value = result;
}
