namespace AuthFunctions.Benchmarks;

/// <summary>
/// Cold start of the packaged app by working directory: the package root (where the Functions host
/// starts it), the repository root (a large tree: node_modules, bin, obj), and an empty directory.
/// The working directory is the default content root, so this shows what start-up does with it.
/// </summary>
internal static class ColdStartDirectories
{
    public static async Task RunAsync(Stack stack, bool quick)
    {
        using var first = stack.StartApp();
        string access;
        using (var client = Stack.Client(first))
        {
            await Stack.WaitReadyAsync(client);
            (access, _) = await Stack.RegisterAndLoginAsync(client, $"cold-{Guid.NewGuid():N}@example.com", "benchmark password");
        }
        first.Dispose();
        string empty = Directory.CreateTempSubdirectory("authfunctions-cwd-").FullName;
        try
        {
            int runs = quick ? 3 : 7;
            var variants = new (string Name, string? Directory)[] { ("package_root", null), ("repository_root", stack.Root), ("empty_directory", empty) };
            var wall = variants.Select(_ => new List<double>()).ToArray();
            var cpu = variants.Select(_ => new List<double>()).ToArray();
            // Interleaved, so that the machine's noise spreads over every variant alike.
            for (int run = 0; run < runs; run++)
            {
                for (int v = 0; v < variants.Length; v++)
                {
                    string? directory = variants[v].Directory;
                    var (elapsed, cpuTime) = await ColdStart.OnceAsync(() => stack.StartApp(workingDirectory: directory), "/api/protected", access);
                    wall[v].Add(elapsed);
                    cpu[v].Add(cpuTime);
                }
            }
            for (int v = 0; v < variants.Length; v++)
            {
                Console.WriteLine($"bench=cold_start_by_directory directory={variants[v].Name} {ColdStart.Samples.Of(wall[v], cpu[v]).Format()}");
            }
        }
        finally
        {
            Directory.Delete(empty);
        }
    }
}
