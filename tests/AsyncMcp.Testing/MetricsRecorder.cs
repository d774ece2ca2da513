using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace AsyncMcp.Testing;

/// <summary>One measurement of an instrument, with its tags.</summary>
public sealed record Measurement(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags);

/// <summary>
/// Records every measurement of the <c>AsyncMcp</c> meter made while it lives. Tests in one process share the meter,
/// so a test keeps what carries its own queue (<c>messaging.destination.name</c>) or is otherwise its own.
/// </summary>
public sealed class MetricsRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<Measurement> _measurements = new();

    public MetricsRecorder(string meterName = "AsyncMcp")
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == meterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    public IReadOnlyList<Measurement> For(string instrument, string? destination = null) =>
        _measurements.Where(m => m.Instrument == instrument && (destination is null || Equals(m.Tags.GetValueOrDefault("messaging.destination.name"), destination))).ToList();

    /// <summary>The sum of a counter's measurements (for an up-down counter, its current value) for one destination.</summary>
    public double Sum(string instrument, string? destination = null, Func<Measurement, bool>? where = null) =>
        For(instrument, destination).Where(where ?? (_ => true)).Sum(m => m.Value);

    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value;
        }

        _measurements.Enqueue(new Measurement(instrument.Name, value, copy));
    }
}
