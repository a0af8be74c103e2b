using AuthFunctions.Hosting;
using Microsoft.Extensions.Options;

try
{
    await AuthFunctionsWorker.CreateBuilder(args).Build().RunAsync();
    return 0;
}
catch (OptionsValidationException invalid)
{
    // A misconfigured instance says which settings to fix and exits with a plain failure code,
    // rather than ending as an unhandled exception (an abort, with a dump where dumps are on).
    foreach (string failure in invalid.Failures)
    {
        await Console.Error.WriteLineAsync($"AuthFunctions cannot start: {failure}");
    }
    return 1;
}
