using AuthFunctions.Passwords;

namespace AuthFunctions.Tests.Unit;

public sealed class HashingThreadsTests
{
    [Fact]
    public async Task WorkRunsOnTheHashingThreadsNotThePool()
    {
        using var threads = new HashingThreads(2);
        var names = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => threads.RunAsync(() => (Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread))));
        Assert.All(names, n => Assert.StartsWith("bcrypt-", n.Name, StringComparison.Ordinal));
        Assert.All(names, n => Assert.False(n.IsThreadPoolThread));
    }

    [Fact]
    public async Task ExceptionsReachTheCaller()
    {
        using var threads = new HashingThreads(1);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => threads.RunAsync(() => BCrypt.Net.BCrypt.GenerateSalt(99, 'b')));
        Assert.Equal(42, await threads.RunAsync(() => 42));
    }

    [Fact]
    public async Task WorkAfterDisposeFails()
    {
        var threads = new HashingThreads(1);
        threads.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => threads.RunAsync(() => 1));
    }

    [Fact]
    public async Task HashingThreadsRunAtLowerPriority()
    {
        // Linux (where the service runs): field 19 of /proc/thread-self/stat is the thread's nice value.
        using var threads = new HashingThreads(1);
        int nice = await threads.RunAsync(() => int.Parse(File.ReadAllText("/proc/thread-self/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[16], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(10, nice);
    }
}
