namespace ResourceApi;

internal static class Program
{
    private static async Task Main(string[] args) => await ResourceApiApp.Build(args).RunAsync();
}
