using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Reflection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker.Http;

namespace AuthFunctions.Http;

/// <summary>The function needs a valid access token: <see cref="AccessTokenMiddleware"/> runs before it and hands it the user.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RequireAccessTokenAttribute : Attribute;

/// <summary>The function counts against the per-client rate limit (<see cref="ClientRateLimitMiddleware"/>), <paramref name="multiple"/> times the base budget.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RateLimitedAttribute(int multiple = 1) : Attribute
{
    public int Multiple => multiple;

    /// <summary>Only these methods count (upper case); empty: all.</summary>
#pragma warning disable CA1819 // An attribute's named argument must be an array.
    public string[] Methods { get; init; } = [];
#pragma warning restore CA1819

    public bool Applies(string method) => Methods.Length == 0 || Methods.Contains(method, StringComparer.OrdinalIgnoreCase);
}

/// <summary>A success of this function may be cached publicly for <paramref name="maxAgeSeconds"/> (everything else is <c>no-store</c>).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PublicCacheAttribute(int maxAgeSeconds) : Attribute
{
    public string CacheControl { get; } = $"public, max-age={maxAgeSeconds}";
}

/// <summary>The function reads a <paramref name="type"/> body itself (see <see cref="RequestBody"/>), in these media types: for the OpenAPI document.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class AcceptsBodyAttribute(Type type, params string[] contentTypes) : Attribute
{
    public Type Type => type;

    /// <summary>For a function with several methods: the one that takes this body (upper case); null: every method but GET.</summary>
    public string? Method { get; init; }

    public IReadOnlyList<string> ContentTypes => contentTypes.Length > 0 ? contentTypes : ["application/json", "application/x-www-form-urlencoded"];
}

/// <summary>Statuses the function answers with RFC 9457 Problem Details beyond its result union: for the OpenAPI document.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ProducesProblemsAttribute(params int[] statusCodes) : Attribute
{
    public IReadOnlyList<int> StatusCodes => statusCodes;
}

/// <summary>For a function whose return type cannot state its outcomes (one function, several methods): the result union of <see cref="Method"/>.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class ResultsAttribute(Type resultUnion) : Attribute
{
    public Type ResultUnion => resultUnion;

    public required string Method { get; init; }
}

/// <summary>
/// The function's route ends in an optional parameter (<c>passkeys/{id?}</c>): <paramref name="methods"/> address one item
/// (the parameter given), the other methods the collection (without it). For the OpenAPI document, which has no optional path parameters.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ItemRouteAttribute(params string[] methods) : Attribute
{
    public IReadOnlyList<string> Methods => methods;
}

/// <summary>One HTTP function as its attributes declare it.</summary>
public sealed partial record HttpFunction(string Name, MethodInfo Method, string Route, IReadOnlyList<string> Methods)
{
    public IReadOnlyList<string> RouteParameters => [.. RouteParameter().Matches(Route).Select(m => m.Groups[1].Value)];

    /// <summary>The route <paramref name="method"/> answers on: <see cref="Route"/>, with a trailing optional parameter made required or dropped (<see cref="ItemRouteAttribute"/>).</summary>
    public string RouteFor(string method)
    {
        var optional = OptionalTrailingParameter().Match(Route);
        if (!optional.Success || Method.GetCustomAttribute<ItemRouteAttribute>() is not { } item)
        {
            return Route;
        }
        return item.Methods.Contains(method, StringComparer.OrdinalIgnoreCase)
            ? Route[..optional.Index] + "/{" + optional.Groups[1].Value + "}"
            : Route[..optional.Index];
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"/\{([A-Za-z_][A-Za-z0-9_]*)\?\}$")]
    private static partial System.Text.RegularExpressions.Regex OptionalTrailingParameter();

    public AcceptsBodyAttribute? BodyFor(string method) =>
        Method.GetCustomAttributes<AcceptsBodyAttribute>().FirstOrDefault(a => a.Method is null ? method != "GET" : a.Method == method);

    /// <summary>The successes of <paramref name="method"/>: status and body type (null: no body), from the result union.</summary>
    public IEnumerable<(int Status, Type? Body)> SuccessesFor(string method) =>
        Outcomes(method).Select(Success).Where(s => s.Status != 0);

    /// <summary>The Problem Details statuses of <paramref name="method"/>: those declared, and 400 for a validation problem in the union.</summary>
    public IEnumerable<int> ProblemsFor(string method) =>
        (Method.GetCustomAttribute<ProducesProblemsAttribute>()?.StatusCodes ?? [])
            .Concat(Outcomes(method).Any(t => t == typeof(ValidationProblem)) ? [StatusCodes.Status400BadRequest] : [])
            .Distinct().Order();

    private Type[] Outcomes(string method)
    {
        var union = Method.GetCustomAttributes<ResultsAttribute>().FirstOrDefault(a => a.Method == method)?.ResultUnion ?? Method.ReturnType;
        if (union.IsGenericType && (union.GetGenericTypeDefinition() == typeof(Task<>) || union.GetGenericTypeDefinition() == typeof(ValueTask<>)))
        {
            union = union.GetGenericArguments()[0];
        }
        return union.IsGenericType && union.Namespace == typeof(Results<,>).Namespace && union.Name.StartsWith("Results`", StringComparison.Ordinal)
            ? union.GetGenericArguments()
            : [union];
    }

    private static (int Status, Type? Body) Success(Type outcome)
    {
        var definition = outcome.IsGenericType ? outcome.GetGenericTypeDefinition() : outcome;
        Type? body = outcome.IsGenericType ? outcome.GetGenericArguments()[0] : null;
        return definition switch
        {
            _ when definition == typeof(Ok<>) => (StatusCodes.Status200OK, body),
            _ when definition == typeof(Created<>) => (StatusCodes.Status201Created, body),
            _ when definition == typeof(Accepted<>) => (StatusCodes.Status202Accepted, body),
            _ when definition == typeof(NoContent) => (StatusCodes.Status204NoContent, null),
            _ when definition == typeof(RedirectHttpResult) => (StatusCodes.Status302Found, null),
            _ when definition == typeof(IResult) => (StatusCodes.Status200OK, null),
            _ => (0, null),
        };
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\{([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial System.Text.RegularExpressions.Regex RouteParameter();

    // Read once: the middleware asks on every invocation, and reflection makes a new attribute object per call.
    public bool RequiresAccessToken { get; } = Method.IsDefined(typeof(RequireAccessTokenAttribute));

    public RateLimitedAttribute? RateLimit { get; } = Method.GetCustomAttribute<RateLimitedAttribute>();

    public PublicCacheAttribute? PublicCache { get; } = Method.GetCustomAttribute<PublicCacheAttribute>();
}

/// <summary>
/// Every <c>[Function]</c> with an HTTP trigger in the worker, read once from the attributes the Worker SDK generates
/// the host's metadata from: the middleware asks it what a function needs, the OpenAPI document describes it, and
/// tests hold both to the functions.
/// </summary>
public sealed class FunctionCatalog
{
    private readonly FrozenDictionary<string, HttpFunction> _byName;

    private FunctionCatalog(IEnumerable<HttpFunction> functions)
    {
        _byName = functions.ToFrozenDictionary(f => f.Name, StringComparer.Ordinal);
        All = [.. _byName.Values.OrderBy(f => f.Route, StringComparer.Ordinal)];
    }

    public static FunctionCatalog Instance => Whole.Value;

    // The whole catalog reads every type and method of the worker (type loads, reflection caches): the OpenAPI document and
    // the tests need it, an invocation does not, so a cold instance's first request does not pay for it (see For).
    private static readonly Lazy<FunctionCatalog> Whole = new(() => FromAssembly(typeof(FunctionCatalog).Assembly));

    private static readonly ConcurrentDictionary<string, HttpFunction?> Invoked = new(StringComparer.Ordinal);

    public IReadOnlyList<HttpFunction> All { get; }

    public HttpFunction? Find(string functionName) => _byName.GetValueOrDefault(functionName);

    /// <summary>
    /// The HTTP function an invocation runs (null for a timer), as <see cref="Find"/> has it, read from the one method its
    /// entry point names (<c>Namespace.Type.Method</c>, from the Worker SDK's metadata) and kept per function name: the
    /// middleware asks on every invocation, and the first request of a cold instance reads one type, not the whole worker.
    /// </summary>
    public static HttpFunction? For(FunctionDefinition function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return Invoked.GetOrAdd(function.Name, static (name, entryPoint) => Resolve(typeof(FunctionCatalog).Assembly, name, entryPoint), function.EntryPoint);
    }

    /// <summary>The HTTP function <paramref name="name"/> whose method <paramref name="entryPoint"/> names in <paramref name="assembly"/>; null if there is none.</summary>
    public static HttpFunction? Resolve(Assembly assembly, string name, string? entryPoint)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        int dot = entryPoint?.LastIndexOf('.') ?? -1;
        if (dot <= 0 || assembly.GetType(entryPoint![..dot]) is not { } type)
        {
            return null;
        }
        string methodName = entryPoint[(dot + 1)..];
        return type.GetMethods(PublicMethods).Where(m => m.Name == methodName).Select(Describe)
            .FirstOrDefault(f => f is not null && f.Name == name);
    }

    public static FunctionCatalog FromAssembly(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        return new FunctionCatalog(assembly.GetTypes().SelectMany(t => t.GetMethods(PublicMethods)).Select(Describe).OfType<HttpFunction>());
    }

    private const BindingFlags PublicMethods = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static;

    /// <summary>The method as an HTTP function: its <c>[Function]</c> name and its HTTP trigger's route and methods; null for any other method.</summary>
    private static HttpFunction? Describe(MethodInfo method)
    {
        if (method.GetCustomAttribute<FunctionAttribute>() is not { } function)
        {
            return null;
        }
        var trigger = method.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).FirstOrDefault(a => a is not null);
        return trigger is null ? null : new HttpFunction(function.Name, method, trigger.Route ?? function.Name,
            [.. (trigger.Methods ?? []).Select(m => m.ToUpperInvariant())]);
    }
}
