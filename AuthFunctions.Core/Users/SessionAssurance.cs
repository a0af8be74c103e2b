namespace AuthFunctions.Users;

/// <summary>
/// How a session's sign-in was authenticated, carried by every access token of the session (refresh keeps it):
/// the methods as RFC 8176 <c>amr</c> values and the NIST SP 800-63B assurance level as <c>acr</c>
/// (<c>aal1</c>: one factor; <c>aal2</c>: two factors, or one multi-factor authenticator). Step-up checks read
/// <see cref="IsMultiFactor"/>; a session never gains a level after it began.
/// </summary>
public sealed record SessionAssurance
{
    public const string SingleFactor = "aal1";
    public const string MultiFactor = "aal2";

    public SessionAssurance(IReadOnlyList<string> methods, string level)
    {
        ArgumentNullException.ThrowIfNull(methods);
        if (methods.Count == 0 || methods.Any(method => string.IsNullOrWhiteSpace(method) || method.Contains(' ', StringComparison.Ordinal)))
        {
            throw new ArgumentException("Each method is one RFC 8176 value without spaces, and there is at least one.", nameof(methods));
        }
        if (level is not (SingleFactor or MultiFactor))
        {
            throw new ArgumentException($"The level is {SingleFactor} or {MultiFactor}.", nameof(level));
        }
        Methods = methods;
        Level = level;
    }

    /// <summary>A password sign-in: <c>amr</c> <c>["pwd"]</c>, <c>aal1</c>. Also what sessions stored without these values are.</summary>
    public static SessionAssurance Password { get; } = new(["pwd"], SingleFactor);

    /// <summary>The RFC 8176 method values, in the order the sign-in used them.</summary>
    public IReadOnlyList<string> Methods { get; }

    public string Level { get; }

    public bool IsMultiFactor => Level == MultiFactor;

    /// <summary>The stored form: the methods space-separated (RFC 8176 values contain no spaces).</summary>
    public string MethodsText => string.Join(' ', Methods);

    /// <summary>The values as stored or as read from a token; <see cref="Password"/> where they are absent or not ours.</summary>
    public static SessionAssurance From(IReadOnlyList<string>? methods, string? level) =>
        methods is { Count: > 0 } && level is SingleFactor or MultiFactor &&
        methods.All(method => !string.IsNullOrWhiteSpace(method) && !method.Contains(' ', StringComparison.Ordinal))
            ? new SessionAssurance(methods, level)
            : Password;

    public static SessionAssurance FromStored(string? methodsText, string? level) =>
        From(methodsText?.Split(' ', StringSplitOptions.RemoveEmptyEntries), level);

    public bool Equals(SessionAssurance? other) =>
        other is not null && Level == other.Level && Methods.SequenceEqual(other.Methods, StringComparer.Ordinal);

    public override int GetHashCode() => HashCode.Combine(Level, MethodsText);
}
