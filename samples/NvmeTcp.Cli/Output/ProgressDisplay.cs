using Spectre.Console;

namespace NvmeTcp.Cli.Output;

/// <summary>A Spectre.Console progress bar for long transfers, shown only on an interactive terminal.</summary>
internal static class ProgressDisplay
{
    /// <summary>Transfers smaller than this finish before a bar would be worth drawing.</summary>
    public const long Threshold = 8L << 20;

    /// <summary>Runs <paramref name="work"/>, which reports bytes done through its argument, under a progress bar of <paramref name="total"/> bytes.</summary>
    public static async Task RunAsync(IAnsiConsole console, string label, long total, Func<Action<long>, Task> work)
    {
        if (!console.Profile.Capabilities.Interactive || total < Threshold)
        {
            await work(_ => { }).ConfigureAwait(false);
            return;
        }

        await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask(label, maxValue: total);
                await work(done => task.Value = done).ConfigureAwait(false);
                task.Value = total;
            }).ConfigureAwait(false);
    }
}
