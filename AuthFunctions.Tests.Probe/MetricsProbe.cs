using System.Buffers;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.IO.MemoryMappedFiles;
using System.Text;
using System.Text.Json;

namespace AuthFunctions.Tests.Probe;

/// <summary>
/// The worker's end of the outside probe: a <see cref="MeterListener"/> on the app's own meters (names starting with
/// <see cref="MeterPrefix"/>) that appends what they measure to the file the test named in
/// <see cref="EnvironmentVariable"/>, one JSON object per line (<see cref="ProbeFile"/> reads it):
/// <list type="bullet">
/// <item><c>{"m":NAME,"v":VALUE,"t":{TAGS}}</c>: one measurement of a counter or histogram, written on the thread that
/// measured before the instrument's <c>Add</c>/<c>Record</c> returns, so it is in the file before the request that
/// made it is answered.</item>
/// <item><c>{"o":NAME,"v":VALUE,"t":{TAGS}}</c>: an observable instrument's value, observed every
/// <see cref="ObservationInterval"/> and written when it changed.</item>
/// <item><c>{"ack":N}</c>: the test asked for snapshot N (an 8-byte counter in the file's <see cref="AskSuffix"/>
/// companion); every observable instrument was observed after the ask and written just above.</item>
/// </list>
/// The file is opened when the first of the app's instruments is published, so the Functions host (which the hook
/// loads into too, and which has none) never writes to it.
/// </summary>
public sealed class MetricsProbe : IDisposable
{
    public const string EnvironmentVariable = "AUTHFUNCTIONS_TEST_PROBE_FILE";

    /// <summary>The app's meters: <c>AuthFunctions.Passwords</c>, <c>AuthFunctions.Storage</c>, …</summary>
    public const string MeterPrefix = "AuthFunctions";

    /// <summary>The companion file (path + this) holding the number of the newest snapshot the test asked for.</summary>
    public const string AskSuffix = ".ask";

    public static readonly TimeSpan ObservationInterval = TimeSpan.FromMilliseconds(20);

    private static readonly Lock StartLock = new();
    private static MetricsProbe? s_started;

    private readonly string _path;
    private readonly MeterListener _listener = new();
    private readonly Lock _openLock = new();
    private readonly Lock _writeLock = new();
    private readonly Dictionary<string, byte[]> _lastObserved = new(StringComparer.Ordinal);
    private FileStream? _log;
    private MemoryMappedViewAccessor? _ask;
    private Dictionary<string, byte[]>? _observing;
    private long _acked;

    private MetricsProbe(string path)
    {
        _path = path;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name.StartsWith(MeterPrefix, StringComparison.Ordinal))
            {
                Open();
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<byte>((i, v, t, _) => OnMeasurement(i, v, null, t));
        _listener.SetMeasurementEventCallback<short>((i, v, t, _) => OnMeasurement(i, v, null, t));
        _listener.SetMeasurementEventCallback<int>((i, v, t, _) => OnMeasurement(i, v, null, t));
        _listener.SetMeasurementEventCallback<long>((i, v, t, _) => OnMeasurement(i, v, null, t));
        _listener.SetMeasurementEventCallback<float>((i, v, t, _) => OnMeasurement(i, null, v, t));
        _listener.SetMeasurementEventCallback<double>((i, v, t, _) => OnMeasurement(i, null, v, t));
        _listener.SetMeasurementEventCallback<decimal>((i, v, t, _) => OnMeasurement(i, null, (double)v, t));
        _listener.Start();
    }

    /// <summary>Starts the probe once per process (the startup hook calls it).</summary>
    public static void Start(string path)
    {
        lock (StartLock)
        {
            s_started ??= new MetricsProbe(path);
        }
    }

    private void Open()
    {
        lock (_openLock)
        {
            if (_log is not null)
            {
                return;
            }
            var ask = MemoryMappedFile.CreateFromFile(_path + AskSuffix, FileMode.OpenOrCreate, null, 8, MemoryMappedFileAccess.ReadWrite);
            _ask = ask.CreateViewAccessor(0, 8);
            // Unbuffered: every record is one write(2), visible to the test's reads as soon as it returns.
            _log = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
            new Thread(ObserveForever) { IsBackground = true, Name = "AuthFunctions.Tests.Probe observer" }.Start();
        }
    }

    private void OnMeasurement(Instrument instrument, long? integer, double? real, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (instrument.IsObservable)
        {
            // Only the observer thread records observable instruments (RecordObservableInstruments calls back on it).
            if (_observing is { } observing)
            {
                observing[SeriesKey(instrument.Name, tags)] = Encode("o", instrument.Name, integer, real, tags);
            }
            return;
        }
        Append(Encode("m", instrument.Name, integer, real, tags));
    }

    private void ObserveForever()
    {
        while (true)
        {
            Thread.Sleep(ObservationInterval);
            try
            {
                ObserveOnce();
            }
#pragma warning disable CA1031 // A thread that throws would end the worker; the next round tries again.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    private void ObserveOnce()
    {
        long asked = _ask!.ReadInt64(0);
        bool snapshot = asked != _acked;
        _observing = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        try
        {
            _listener.RecordObservableInstruments();
        }
#pragma warning disable CA1031 // An app callback that throws must not end the probe; the snapshot is written all the same.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
        var observed = _observing;
        _observing = null;
        var lines = new ArrayBufferWriter<byte>();
        foreach (var (key, line) in observed)
        {
            if (snapshot || !_lastObserved.TryGetValue(key, out var last) || !last.AsSpan().SequenceEqual(line))
            {
                lines.Write(line);
                _lastObserved[key] = line;
            }
        }
        if (snapshot)
        {
            lines.Write(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{{\"ack\":{asked}}}\n")));
            _acked = asked;
        }
        if (lines.WrittenCount > 0)
        {
            Append(lines.WrittenSpan.ToArray());
        }
    }

    /// <summary>Stops listening (the process's probe lives as long as the process; this is for completeness).</summary>
    public void Dispose()
    {
        _listener.Dispose();
        lock (_writeLock)
        {
            _log?.Dispose();
        }
        _ask?.Dispose();
    }

    private void Append(byte[] records)
    {
        lock (_writeLock)
        {
            _log!.Write(records);
        }
    }

    private static string SeriesKey(string name, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var key = new StringBuilder(name);
        foreach (var (tag, value) in tags)
        {
            key.Append('\u0001').Append(tag).Append('=').Append(Convert.ToString(value, CultureInfo.InvariantCulture));
        }
        return key.ToString();
    }

    private static byte[] Encode(string kind, string name, long? integer, double? real, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString(kind, name);
            if (integer is { } whole)
            {
                json.WriteNumber("v", whole);
            }
            else if (double.IsFinite(real!.Value))
            {
                json.WriteNumber("v", real.Value);
            }
            else
            {
                json.WriteString("v", real.Value.ToString(CultureInfo.InvariantCulture));
            }
            json.WriteStartObject("t");
            foreach (var (tag, value) in tags)
            {
                switch (value)
                {
                    case null:
                        json.WriteNull(tag);
                        break;
                    case bool flag:
                        json.WriteBoolean(tag, flag);
                        break;
                    case byte or sbyte or short or ushort or int or uint or long:
                        json.WriteNumber(tag, Convert.ToInt64(value, CultureInfo.InvariantCulture));
                        break;
                    case float or double when double.IsFinite(Convert.ToDouble(value, CultureInfo.InvariantCulture)):
                        json.WriteNumber(tag, Convert.ToDouble(value, CultureInfo.InvariantCulture));
                        break;
                    default:
                        json.WriteString(tag, Convert.ToString(value, CultureInfo.InvariantCulture));
                        break;
                }
            }
            json.WriteEndObject();
            json.WriteEndObject();
        }
        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }
}
