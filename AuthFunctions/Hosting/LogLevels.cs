using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace AuthFunctions.Hosting;

/// <summary>
/// Log levels: our own categories (auth events, ASVS 16.3) at Information, the framework's at
/// Warning, each unless configured (<c>Logging__LogLevel__&lt;category&gt;</c>). The framework's
/// per-request logging costs CPU on every request and writes request URLs; a few categories write a
/// URL with its query string (tokens, emails), so they are held at Warning in code, and no setting,
/// provider-specific or wildcard, can turn them lower (ASVS 16.2.5: no secrets in logs).
/// </summary>
public static class LogLevels
{
    /// <summary>The defaults, below every other configuration source, so any setting overrides them.</summary>
    public static readonly IReadOnlyDictionary<string, string?> Defaults = new Dictionary<string, string?>
    {
        ["Logging:LogLevel:AuthFunctions"] = "Information",
        ["Logging:LogLevel:Microsoft"] = "Warning",
        ["Logging:LogLevel:System"] = "Warning",
    };

    /// <summary>
    /// Categories that write a request's URL with its query: the request start/finish lines (Information,
    /// Debug), and Kestrel's rejected requests, whose message quotes the request line when
    /// <c>Microsoft.AspNetCore.Server.Kestrel</c> is at Information or lower (Debug).
    /// </summary>
    public static readonly IReadOnlyList<string> HeldAtWarning =
    [
        "Microsoft.AspNetCore.Hosting.Diagnostics",
        "Microsoft.AspNetCore.Server.Kestrel.BadRequests",
    ];

    public static IHostApplicationBuilder ConfigureLogLevels(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = Defaults });
        builder.Services.AddSingleton<IPostConfigureOptions<LoggerFilterOptions>>(new HoldAtWarning());
        // A record written during a function invocation reaches the host's log through the worker channel. One written
        // outside any (a start-up warning, the email sender's failures) has no invocation to belong to, and the host
        // drops it there; the host does log the worker's console, so those records go to the console, one line each.
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.ColorBehavior = LoggerColorBehavior.Disabled;
            console.IncludeScopes = false;
        });
        // The worker passes every level on (the host's logging settings filter what arrives through its channel), so
        // the console applies our levels itself: our categories from Information, everything else from Warning.
        builder.Logging.AddFilter<ConsoleLoggerProvider>((category, level) => !FunctionInvocation.InProgress &&
            level >= (category?.StartsWith("AuthFunctions.", StringComparison.Ordinal) == true ? LogLevel.Information : LogLevel.Warning));
        return builder;
    }

    /// <summary>
    /// Runs after the configured rules are in place (and again on every configuration reload). A rule
    /// for a held category at Warning goes first, so a configured rule for exactly that category can
    /// still make it stricter; every rule that could apply to a held category (less specific,
    /// provider-specific, wildcard) gets a filter that refuses anything below Warning there.
    /// </summary>
    private sealed class HoldAtWarning : IPostConfigureOptions<LoggerFilterOptions>
    {
        public void PostConfigure(string? name, LoggerFilterOptions options)
        {
            for (int i = 0; i < options.Rules.Count; i++)
            {
                var rule = options.Rules[i];
                if (HeldAtWarning.Any(held => Applies(rule.CategoryName, held)))
                {
                    var inner = rule.Filter;
                    options.Rules[i] = new LoggerFilterRule(rule.ProviderName, rule.CategoryName, rule.LogLevel,
                        (provider, category, level) => (level >= LogLevel.Warning || !IsHeld(category)) && (inner is null || inner(provider, category, level)));
                }
            }
            foreach (string held in HeldAtWarning)
            {
                options.Rules.Insert(0, new LoggerFilterRule(null, held, LogLevel.Warning, null));
            }
        }

        private static bool IsHeld(string? category) =>
            category is not null && HeldAtWarning.Any(held => category.StartsWith(held, StringComparison.OrdinalIgnoreCase));

        /// <summary>Whether a rule for <paramref name="ruleCategory"/> can be chosen for a logger of <paramref name="category"/> (prefix, one optional '*').</summary>
        private static bool Applies(string? ruleCategory, string category)
        {
            if (ruleCategory is null)
            {
                return true;
            }
            int star = ruleCategory.IndexOf('*', StringComparison.Ordinal);
            if (star < 0)
            {
                return category.StartsWith(ruleCategory, StringComparison.OrdinalIgnoreCase)
                       || ruleCategory.StartsWith(category, StringComparison.OrdinalIgnoreCase);
            }
            // A wildcard rule can match the held category or one under it: be conservative and wrap it
            // whenever its fixed prefix is compatible.
            string prefix = ruleCategory[..star];
            return category.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || prefix.StartsWith(category, StringComparison.OrdinalIgnoreCase);
        }
    }
}

/// <summary>Whether the current code runs inside a function invocation (set by the outermost worker middleware).</summary>
public static class FunctionInvocation
{
    private static readonly AsyncLocal<bool> Current = new();

    public static bool InProgress => Current.Value;

    internal static void Enter() => Current.Value = true;
}
