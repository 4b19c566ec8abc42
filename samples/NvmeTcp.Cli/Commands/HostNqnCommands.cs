using System.CommandLine;
using NvmeTcp.Client;

namespace NvmeTcp.Cli.Commands;

/// <summary><c>gen-hostnqn</c> and <c>show-hostnqn</c>, as nvme-cli's.</summary>
internal static class HostNqnCommands
{
    /// <summary>Prints a new random host NQN of the UUID form; stores nothing.</summary>
    public static Command Generate()
    {
        var command = new Command("gen-hostnqn", "Print a new host NQN of the form nqn.2014-08.org.nvmexpress:uuid:<uuid> (nothing is stored; write it to /etc/nvme/hostnqn to keep it).");
        CommandRunner.SetAction(command, outputFormat: null, connection: null, (context, _) =>
        {
            context.Out.WriteLine(NvmeHostIdentity.CreateRandom().HostNqn);
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    /// <summary>Prints the host NQN every verb uses by default, and with --verbose where it came from and the host ID.</summary>
    public static Command Show()
    {
        var command = new Command(
            "show-hostnqn",
            $"Print the host NQN used by default: /etc/nvme/hostnqn (and hostid), else ${NvmeHostIdentity.HostNqnVariable} / ${NvmeHostIdentity.HostIdVariable}, else a per-user file created once (~/.config/nvmetcp/hostnqn).");
        CommandRunner.SetAction(command, outputFormat: null, connection: null, (context, _) =>
        {
            var identity = NvmeHostIdentity.Default;
            context.Out.WriteLine(identity.HostNqn);
            if (context.Verbose)
            {
                context.Error.WriteLine($"host ID {identity.HostId:D}, from {identity.Source}");
            }

            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }
}
