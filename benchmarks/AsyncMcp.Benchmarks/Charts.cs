using System.Globalization;
using ScottPlot;

namespace AsyncMcp.Benchmarks;

/// <summary>Draws the benchmark's figures as SVG charts with ScottPlot: one line per set-up against concurrency, or grouped bars.</summary>
internal static class Charts
{
    private const int Width = 720;
    private const int Height = 420;

    /// <summary>
    /// One line per series; x is the concurrency, drawn on a log scale with the measured levels as ticks. A secondary
    /// series (a baseline, a p99) is drawn thin with open markers: the SVG back end draws no dashed lines.
    /// </summary>
    public static void Lines(string path, string title, string yLabel, IReadOnlyList<int> concurrency, IEnumerable<(string Label, IReadOnlyList<double> Values, bool Secondary)> series)
    {
        var plot = new Plot();
        var xs = concurrency.Select(c => Math.Log2(c)).ToArray();
        var index = 0;
        foreach (var (label, values, secondary) in series)
        {
            var line = plot.Add.Scatter(xs, values.ToArray(), Color(index++));
            line.LegendText = label;
            line.LineWidth = secondary ? 1 : 2.5f;
            line.MarkerSize = 8;
            line.MarkerShape = secondary ? MarkerShape.OpenCircle : MarkerShape.FilledCircle;
        }

        Finish(plot, title, yLabel, xs, concurrency);
        plot.SaveSvg(path, Width, Height);
    }

    /// <summary>Grouped bars: one group per concurrency level, one bar per series.</summary>
    public static void Bars(string path, string title, string yLabel, IReadOnlyList<int> concurrency, IReadOnlyList<(string Label, IReadOnlyList<double> Values)> series)
    {
        var plot = new Plot();
        var groupWidth = series.Count + 1;
        var bars = new List<Bar>();
        for (var s = 0; s < series.Count; s++)
        {
            for (var level = 0; level < concurrency.Count; level++)
            {
                var value = series[s].Values[level];
                bars.Add(new Bar
                {
                    Position = (level * groupWidth) + s,
                    Value = value,
                    FillColor = Color(s),
                    Label = value.ToString("F2", CultureInfo.InvariantCulture),
                });
            }

            plot.Legend.ManualItems.Add(new LegendItem { LabelText = series[s].Label, FillColor = Color(s) });
        }

        var barPlot = plot.Add.Bars(bars);
        barPlot.ValueLabelStyle.FontSize = 11;
        var ticks = concurrency.Select((_, level) => (level * groupWidth) + ((series.Count - 1) / 2.0)).ToArray();
        plot.Axes.Bottom.SetTicks(ticks, [.. concurrency.Select(c => c.ToString(CultureInfo.InvariantCulture))]);
        plot.Axes.Margins(bottom: 0, top: 0.15);
        plot.Title(title);
        plot.YLabel(yLabel);
        plot.XLabel("concurrency (calls in flight)");
        plot.ShowLegend(Alignment.UpperRight);
        plot.SaveSvg(path, Width, Height);
    }

    private static void Finish(Plot plot, string title, string yLabel, double[] xs, IReadOnlyList<int> concurrency)
    {
        plot.Axes.Bottom.SetTicks(xs, [.. concurrency.Select(c => c.ToString(CultureInfo.InvariantCulture))]);
        plot.Axes.Margins(bottom: 0);
        plot.Title(title);
        plot.YLabel(yLabel);
        plot.XLabel("concurrency (calls in flight)");
        plot.ShowLegend(Alignment.UpperLeft);
    }

    private static Color Color(int index) => new ScottPlot.Palettes.Category10().GetColor(index);
}
