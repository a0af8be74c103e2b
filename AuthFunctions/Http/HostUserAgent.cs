namespace AuthFunctions.Http;

/// <summary>
/// The Functions host appends its own product token, " Azure-Functions-Host/&lt;version&gt;", to the
/// User-Agent it forwards (seen with host 4.1037). A session records the client's User-Agent, so
/// the host's token comes off the end; anywhere else it is the client's own text and stays.
/// </summary>
internal static class HostUserAgent
{
    private const string Product = "Azure-Functions-Host/";

    /// <summary>The User-Agent as the client sent it: <paramref name="userAgent"/> without a trailing host token.</summary>
    public static string ClientPart(string userAgent)
    {
        ArgumentNullException.ThrowIfNull(userAgent);
        int start = userAgent.LastIndexOf(Product, StringComparison.Ordinal);
        if (start < 0 || (start > 0 && userAgent[start - 1] != ' '))
        {
            return userAgent;
        }
        var version = userAgent.AsSpan(start + Product.Length);
        if (version.IsEmpty || version.ContainsAny(' ', '\t'))
        {
            return userAgent;
        }
        // A client that sent no User-Agent is left with an empty one, as it would be without the host.
        return start == 0 ? "" : userAgent[..(start - 1)];
    }
}
