using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace AuthFunctions.Benchmarks;

/// <summary>
/// What serves HTTP on loopback for a measurement: the app process itself (<see cref="ChildProcess"/>) or
/// the Functions host with its worker (<see cref="FunctionsHostInstance"/>). CPU time covers every process
/// that serves a request, so CPU per request compares across the two.
/// </summary>
internal interface IServedApp : IDisposable
{
    int Port { get; }

    /// <summary>User + system CPU time so far of every process serving the app.</summary>
    TimeSpan CpuTime();
}

/// <summary>A process the benchmark started (Azurite or the app), on loopback, ended by its PID.</summary>
internal sealed class ChildProcess : IServedApp
{
    private const int OutputLinesKept = 300;
    private readonly Queue<string> _recentOutput = new();
    private long _linesWritten;

    private ChildProcess(Process process, int port)
    {
        Process = process;
        Port = port;
    }

    public Process Process { get; }

    public int Port { get; }

    public int Pid => Process.Id;

    public static ChildProcess Start(string file, IEnumerable<string> arguments, IDictionary<string, string> environment, int port, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (workingDirectory is not null)
        {
            start.WorkingDirectory = workingDirectory;
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        return Start(start, port);
    }

    /// <summary>Starts <paramref name="start"/> (its output redirected) and keeps its recent output.</summary>
    public static ChildProcess Start(ProcessStartInfo start, int port)
    {
        ArgumentNullException.ThrowIfNull(start);
        var process = Process.Start(start)!;
        var child = new ChildProcess(process, port);
        process.OutputDataReceived += (_, e) => child.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => child.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>The last lines the process wrote (stdout and stderr), for the message when it fails to start.</summary>
    public string RecentOutput()
    {
        lock (_recentOutput)
        {
            return string.Join('\n', _recentOutput);
        }
    }

    /// <summary>How many lines the process has written so far (stdout and stderr).</summary>
    public long LinesWritten => Interlocked.Read(ref _linesWritten);

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        Interlocked.Increment(ref _linesWritten);
        lock (_recentOutput)
        {
            _recentOutput.Enqueue(line);
            if (_recentOutput.Count > OutputLinesKept)
            {
                _recentOutput.Dequeue();
            }
        }
    }

    /// <summary>
    /// A free loopback port below 32768: the range above is this machine's ephemeral range, where an
    /// outgoing connection (the Functions host's own, say) could take the port between this check and the bind.
    /// </summary>
    public static int FreePort()
    {
        for (int attempt = 0; attempt < 200; attempt++)
        {
            int port = Random.Shared.Next(20_000, 32_768);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
            }
        }
        throw new InvalidOperationException("no free loopback port found in 20000-32767");
    }

    /// <summary>User + system CPU time of the process so far, from /proc (the least noisy figure).</summary>
    public TimeSpan CpuTime() => ProcessInfo.CpuTime(Pid);

    public double RssMegabytes(string field = "VmRSS") => ProcessInfo.Megabytes(Pid, field);

    /// <summary>SIGTERM, then (after <paramref name="grace"/>) a kill of the process and whatever it started that is still its descendant.</summary>
    public void Stop(TimeSpan grace)
    {
        try
        {
            if (!Process.HasExited)
            {
                ProcessInfo.Terminate(Pid);
                if (!Process.WaitForExit(grace))
                {
                    Process.Kill(entireProcessTree: true);
                    Process.WaitForExit(5000);
                }
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    public void Dispose()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        Process.Dispose();
    }
}

/// <summary>Figures of any process by its PID, from /proc (Linux).</summary>
internal static class ProcessInfo
{
    /// <summary>User + system CPU time of the process so far; zero when it has gone.</summary>
    public static TimeSpan CpuTime(int pid)
    {
        var fields = StatFields(pid);
        if (fields is null)
        {
            return TimeSpan.Zero;
        }
        long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    /// <summary>A field of /proc/PID/status in MiB (VmRSS now, VmHWM the peak); NaN when the process has gone.</summary>
    public static double Megabytes(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                {
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return double.NaN;
    }

    /// <summary>The PIDs whose parent is <paramref name="pid"/>.</summary>
    public static List<int> Children(int pid)
    {
        var children = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out int candidate) &&
                StatFields(candidate) is { } fields && fields[1] == pid.ToString(CultureInfo.InvariantCulture))
            {
                children.Add(candidate);
            }
        }
        return children;
    }

    /// <summary>When the process started, in clock ticks after boot: with the PID, names one process even after PID reuse.</summary>
    public static long? StartTicks(int pid) =>
        StatFields(pid) is { } fields ? long.Parse(fields[19], CultureInfo.InvariantCulture) : null;

    public static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>Asks the process to stop (SIGTERM), as the platform does before it recycles an instance. .NET's Process.Kill only sends SIGKILL.</summary>
    public static void Terminate(int pid)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", pid.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false, RedirectStandardError = true })!;
        kill.StandardError.ReadToEnd();
        kill.WaitForExit();
    }

    // Fields after the command name: [0] state, [1] ppid, ... [11] utime, [12] stime, ... [19] starttime.
    private static string[]? StatFields(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
