using System.CommandLine;
using NvmeTcp.Client;

namespace NvmeTcp.Cli.Commands;

/// <summary>
/// The shape every verb that talks to a target shares: the connection options, then the verb's own, then -o; an action
/// that connects, runs the verb, shuts the controller down and turns what it throws into an exit code.
/// </summary>
internal static class ControllerVerb
{
    /// <summary>
    /// A verb that connects to the controller the command line names and runs <paramref name="run"/> on it; the
    /// controller is shut down when <paramref name="run"/> returns its exit code or throws.
    /// </summary>
    /// <param name="name">The verb.</param>
    /// <param name="description">Its line in --help.</param>
    /// <param name="defaultIoQueues">I/O queues to ask for without --nr-io-queues.</param>
    /// <param name="options">The verb's own options, in --help order.</param>
    /// <param name="run">The verb's work and output, given the context and the live controller.</param>
    public static Command Create(
        string name,
        string description,
        int defaultIoQueues,
        IEnumerable<Option> options,
        Func<CliContext, NvmeController, CancellationToken, Task<int>> run) =>
        Create(name, description, new ConnectionOptions(defaultIoQueues), options, async (context, cancellationToken) =>
        {
            var controller = await context.ConnectAsync(cancellationToken).ConfigureAwait(false);
            await using (controller.ConfigureAwait(false))
            {
                return await run(context, controller, cancellationToken).ConfigureAwait(false);
            }
        });

    /// <summary>
    /// A verb over a subsystem: several -a/-s pairs (or --discover) and --iopolicy; it connects an
    /// <see cref="NvmeSubsystem"/>, runs <paramref name="run"/> on it and disposes it (every path) when done.
    /// </summary>
    public static Command CreateSubsystem(
        string name,
        string description,
        int defaultIoQueues,
        IEnumerable<Option> options,
        Func<CliContext, NvmeSubsystem, CancellationToken, Task<int>> run) =>
        CreateMultipath(name, description, defaultIoQueues, options, async (context, cancellationToken) =>
        {
            var subsystem = await context.ConnectSubsystemAsync(cancellationToken).ConfigureAwait(false);
            await using (subsystem.ConfigureAwait(false))
            {
                return await run(context, subsystem, cancellationToken).ConfigureAwait(false);
            }
        });

    /// <summary>
    /// A verb with the multipath connection options that connects by itself: a controller
    /// (<see cref="CliContext.ConnectAsync"/>) or, when <see cref="CliContext.IsMultipath"/>, a subsystem.
    /// </summary>
    public static Command CreateMultipath(string name, string description, int defaultIoQueues, IEnumerable<Option> options, Func<CliContext, CancellationToken, Task<int>> run) =>
        Create(name, description, new ConnectionOptions(defaultIoQueues, multipath: true), options, run);

    /// <summary>A verb that talks to the target's discovery controller itself (<see cref="CliContext.ClientOptions"/>); it has no --nqn.</summary>
    public static Command CreateDiscovery(string name, string description, IEnumerable<Option> options, Func<CliContext, CancellationToken, Task<int>> run) =>
        Create(name, description, new ConnectionOptions(defaultIoQueues: 0, withNqn: false), options, run);

    private static Command Create(string name, string description, ConnectionOptions connection, IEnumerable<Option> options, Func<CliContext, CancellationToken, Task<int>> body)
    {
        var command = new Command(name, description);
        connection.AddTo(command);
        foreach (var option in options)
        {
            command.Options.Add(option);
        }

        var outputFormat = CommonOptions.OutputFormat();
        command.Options.Add(outputFormat);
        connection.AddShortForms(command);
        CommandRunner.SetAction(command, outputFormat, connection, body);
        return command;
    }
}
