using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using System.Text.Json;

namespace AuthFunctions.Tests.Probe;

/// <summary>One measurement, or one observation of an observable instrument, read from the probe file.</summary>
public sealed record ProbeRecord(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    /// <summary>The tag's value: a long for whole numbers, a double, a bool, a string or null.</summary>
    public object? Tag(string name) => Tags.GetValueOrDefault(name);
}

/// <summary>
/// The test's end of the outside probe (<see cref="MetricsProbe"/>): the file one worker appends its measurements and
/// observations to, read incrementally. <see cref="Measurements"/> grows in the order the worker measured; a
/// position taken from it before a request excludes everything measured before.
/// </summary>
public sealed class ProbeFile : IDisposable
{
    private readonly Lock _lock = new();
    private readonly FileStream _reader;
    private readonly MemoryMappedFile _askFile;
    private readonly MemoryMappedViewAccessor _ask;
    private readonly List<ProbeRecord> _measurements = [];
    private readonly Dictionary<string, ProbeRecord> _observed = new(StringComparer.Ordinal);
    private readonly MemoryStream _partial = new();
    private readonly byte[] _buffer = new byte[64 * 1024];
    private long _asked;
    private long _acked;

    /// <summary>Creates an empty probe file (and its ask counter) at <paramref name="path"/>.</summary>
    public ProbeFile(string path)
    {
        Path = path;
        File.WriteAllBytes(path, []);
        File.WriteAllBytes(path + MetricsProbe.AskSuffix, new byte[8]);
        _askFile = MemoryMappedFile.CreateFromFile(path + MetricsProbe.AskSuffix, FileMode.Open, null, 8, MemoryMappedFileAccess.ReadWrite);
        _ask = _askFile.CreateViewAccessor(0, 8);
        _reader = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
    }

    public string Path { get; }

    /// <summary>Every measurement of a counter or histogram so far, in the worker's order.</summary>
    public IReadOnlyList<ProbeRecord> Measurements
    {
        get
        {
            lock (_lock)
            {
                ReadNew();
                return [.. _measurements];
            }
        }
    }

    /// <summary>How many measurements have been written so far: a position for <see cref="MeasurementsSince"/>.</summary>
    public int Position
    {
        get
        {
            lock (_lock)
            {
                ReadNew();
                return _measurements.Count;
            }
        }
    }

    public IReadOnlyList<ProbeRecord> MeasurementsSince(int position)
    {
        lock (_lock)
        {
            ReadNew();
            return [.. _measurements.Skip(position)];
        }
    }

    /// <summary>The latest value written for each observable instrument and tag set (may be up to an observation interval old).</summary>
    public IReadOnlyList<ProbeRecord> Observations
    {
        get
        {
            lock (_lock)
            {
                ReadNew();
                return [.. _observed.Values];
            }
        }
    }

    /// <summary>Asks the worker to observe every observable instrument now, and returns what it observed (all after the call started).</summary>
    public async Task<IReadOnlyList<ProbeRecord>> ObserveAsync(TimeSpan? timeout = null)
    {
        long asked;
        lock (_lock)
        {
            asked = ++_asked;
            _ask.Write(0, asked);
        }
        var watch = Stopwatch.StartNew();
        while (true)
        {
            lock (_lock)
            {
                ReadNew();
                if (_acked >= asked)
                {
                    return [.. _observed.Values];
                }
            }
            if (watch.Elapsed > (timeout ?? TimeSpan.FromSeconds(30)))
            {
                throw new TimeoutException($"The worker's probe did not answer snapshot {asked} within {watch.Elapsed.TotalSeconds:0.#} s ({Path}).");
            }
            await Task.Delay(5);
        }
    }

    private void ReadNew()
    {
        while (true)
        {
            int read = _reader.Read(_buffer);
            if (read == 0)
            {
                return;
            }
            int start = 0;
            for (int i = 0; i < read; i++)
            {
                if (_buffer[i] != (byte)'\n')
                {
                    continue;
                }
                if (_partial.Length > 0)
                {
                    _partial.Write(_buffer, start, i - start);
                    Parse(_partial.ToArray());
                    _partial.SetLength(0);
                }
                else
                {
                    Parse(_buffer.AsSpan(start, i - start).ToArray());
                }
                start = i + 1;
            }
            _partial.Write(_buffer, start, read - start);
        }
    }

    private void Parse(byte[] line)
    {
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        if (root.TryGetProperty("ack", out var ack))
        {
            _acked = Math.Max(_acked, ack.GetInt64());
            return;
        }
        bool observed = root.TryGetProperty("o", out var name);
        if (!observed)
        {
            name = root.GetProperty("m");
        }
        var value = root.GetProperty("v");
        var tags = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var tag in root.GetProperty("t").EnumerateObject())
        {
            tags[tag.Name] = tag.Value.ValueKind switch
            {
                JsonValueKind.Number when tag.Value.TryGetInt64(out long whole) => whole,
                JsonValueKind.Number => tag.Value.GetDouble(),
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.Null => null,
                _ => tag.Value.GetString(),
            };
        }
        var record = new ProbeRecord(name.GetString()!,
            value.ValueKind == JsonValueKind.Number ? value.GetDouble() : double.Parse(value.GetString()!, System.Globalization.CultureInfo.InvariantCulture),
            tags);
        if (observed)
        {
            _observed[record.Instrument + string.Concat(tags.Select(t => $"\u0001{t.Key}={t.Value}"))] = record;
        }
        else
        {
            _measurements.Add(record);
        }
    }

    public void Dispose()
    {
        _reader.Dispose();
        _ask.Dispose();
        _askFile.Dispose();
        _partial.Dispose();
        File.Delete(Path);
        File.Delete(Path + MetricsProbe.AskSuffix);
    }
}
