using System.Runtime.InteropServices;
using System.Threading.Channels;

namespace AuthFunctions.Passwords;

/// <summary>
/// bcrypt runs on its own threads, one per core, at a lower scheduling priority: a burst of logins
/// then queues here instead of occupying the thread pool (whose starvation would stall every other
/// request for hundreds of milliseconds) and yields the CPU to cheap requests such as protected.
/// </summary>
public sealed partial class HashingThreads : IDisposable
{
    // Linux "nice" for the hashing threads: lower priority needs no privilege.
    private const int LowerPriority = 10;
    private readonly Channel<Action> _work = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });
    private readonly Thread[] _threads;

    public HashingThreads() : this(Environment.ProcessorCount)
    {
    }

    public HashingThreads(int threadCount)
    {
        _threads = new Thread[Math.Max(1, threadCount)];
        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(Work) { IsBackground = true, Name = $"bcrypt-{i}" };
            _threads[i].Start();
        }
    }

    public Task<T> RunAsync<T>(Func<T> work)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool queued = _work.Writer.TryWrite(() =>
        {
            try
            {
                completion.SetResult(work());
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                completion.SetException(ex);
            }
        });
        if (!queued)
        {
            completion.SetException(new ObjectDisposedException(nameof(HashingThreads)));
        }
        return completion.Task;
    }

    private void Work()
    {
        LowerThisThreadsPriority();
        var reader = _work.Reader;
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            while (reader.TryRead(out var item))
            {
                item();
            }
        }
    }

    private static void LowerThisThreadsPriority()
    {
        if (OperatingSystem.IsLinux())
        {
            // PRIO_PROCESS with a thread id sets that thread's nice value on Linux; failure is harmless.
            _ = SetPriority(0, GetThreadId(), LowerPriority);
        }
    }

    [LibraryImport("libc", EntryPoint = "setpriority")]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();

    public void Dispose() => _work.Writer.TryComplete();
}
