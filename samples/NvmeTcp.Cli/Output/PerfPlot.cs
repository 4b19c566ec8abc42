using System.Globalization;
using NvmeTcp.Cli.Commands;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Series;

namespace NvmeTcp.Cli.Output;

/// <summary>perf --plot: IOPS over time and the latency percentile curve, two OxyPlot charts stacked in one SVG.</summary>
internal static class PerfPlot
{
    private const int Width = 900;
    private const int Height = 380;

    // Room above the title and beside the axis titles: renderers' fonts run larger than OxyPlot measures them.
    private static readonly OxyThickness Padding = new(16, 28, 24, 12);

    public static void Write(string path, PerfSettings settings, PerfResult result)
    {
        var title = $"{settings.PatternName} {PerfRunner.Size(settings.IoSize)} QD{settings.QueueDepth}, {result.IoQueues} queue(s)";
        var top = Export(IopsOverTime(title, result));
        var bottom = Export(LatencyPercentiles(result));

        // Each chart is an <svg> element of its own; the page places them one above the other.
        var page = $"""
            <?xml version="1.0" encoding="UTF-8" standalone="no"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{2 * Height}" viewBox="0 0 {Width} {2 * Height}">
            <rect width="100%" height="100%" fill="white"/>
            {Place(top, 0)}
            {Place(bottom, Height)}
            </svg>
            """;
        File.WriteAllText(path, page);
    }

    private static PlotModel IopsOverTime(string title, PerfResult result)
    {
        var model = new PlotModel { Title = $"IOPS over time: {title}", Subtitle = string.Create(CultureInfo.InvariantCulture, $"mean {result.Iops:N0} IOPS, {result.MiBPerSecond:N1} MiB/s"), Padding = Padding };
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "time (s)", Minimum = 0, MajorGridlineStyle = LineStyle.Dot, TickStyle = TickStyle.None });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "IOPS", Minimum = 0, MajorGridlineStyle = LineStyle.Dot, StringFormat = "#,0", AxisTitleDistance = 14, TickStyle = TickStyle.Inside });
        var series = new LineSeries { Title = "IOPS", Color = OxyColor.FromRgb(0x1f, 0x77, 0xb4), StrokeThickness = 2, MarkerType = MarkerType.Circle, MarkerSize = 2.5 };
        foreach (var (seconds, iops) in result.Timeline)
        {
            series.Points.Add(new DataPoint(seconds, iops));
        }

        model.Series.Add(series);
        return model;
    }

    private static PlotModel LatencyPercentiles(PerfResult result)
    {
        var l = result.Latency;
        var model = new PlotModel
        {
            Title = "Latency by percentile (submission to completion)",
            Subtitle = string.Create(CultureInfo.InvariantCulture, $"p50 {l.P50:0.0} µs, p99 {l.P99:0.0} µs, p99.9 {l.P999:0.0} µs, max {l.Max:0.0} µs"),
            Padding = Padding,
        };

        // The x axis is the number of nines: 0 = p0, 1 = p90, 2 = p99, 3 = p99.9, 4 = p99.99.
        model.Axes.Add(new LinearAxis
        {
            Position = AxisPosition.Bottom,
            Title = "percentile",
            Minimum = 0,
            Maximum = 4,
            MajorStep = 1,
            MinorStep = 0.5,
            MajorGridlineStyle = LineStyle.Dot,
            TickStyle = TickStyle.None,
            LabelFormatter = nines => nines switch { 0 => "p0", 1 => "p90", 2 => "p99", 3 => "p99.9", 4 => "p99.99", _ => string.Empty },
        });
        model.Axes.Add(new LogarithmicAxis { Position = AxisPosition.Left, Title = "latency (µs)", MajorGridlineStyle = LineStyle.Dot, MinorGridlineStyle = LineStyle.None, AxisTitleDistance = 14, TickStyle = TickStyle.Inside });
        var series = new LineSeries { Title = "latency", Color = OxyColor.FromRgb(0xd6, 0x27, 0x28), StrokeThickness = 2 };
        foreach (var (percentile, microseconds) in result.Percentiles)
        {
            var nines = percentile >= 100 ? 4 : Math.Min(4, -Math.Log10((100 - percentile) / 100));
            series.Points.Add(new DataPoint(nines, Math.Max(microseconds, 0.1)));
        }

        model.Series.Add(series);
        return model;
    }

    private static string Export(PlotModel model)
    {
        var exporter = new SvgExporter { Width = Width, Height = Height };
        using var stream = new MemoryStream();
        exporter.Export(model, stream);
        var svg = System.Text.Encoding.UTF8.GetString(stream.ToArray());

        // Drop the XML declaration and DOCTYPE: the chart goes inside the page's <svg>.
        return svg[svg.IndexOf("<svg", StringComparison.Ordinal)..];
    }

    private static string Place(string svg, int y) => string.Concat("<svg x=\"0\" y=\"", y.ToString(CultureInfo.InvariantCulture), "\" ", svg.AsSpan("<svg ".Length));
}
