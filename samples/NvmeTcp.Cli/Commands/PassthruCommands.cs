using System.CommandLine;
using NvmeTcp.Cli.Output;
using NvmeTcp.Client;

namespace NvmeTcp.Cli.Commands;

/// <summary><c>admin-passthru</c> and <c>io-passthru</c>: any command, built from its dwords, as nvme-cli sends them.</summary>
internal static class PassthruCommands
{
    public static Command Admin() => Create(admin: true);

    public static Command Io() => Create(admin: false);

    private static Command Create(bool admin)
    {
        var opcode = NumberOption.UInt32("--opcode", "The command's opcode (e.g. 0x06 Identify, 0x02 Read).", null, "-O")
            .Check(op => op > 0xFF ? $"--opcode must be 0 to 0xff, not 0x{op:x}" : null);
        var namespaceId = NumberOption.UInt32("--namespace-id", "NSID (default 0).", 0);
        var cdws = Enumerable.Range(2, 14).Where(i => i is 2 or 3 or >= 10).ToDictionary(i => i, i => NumberOption.UInt32($"--cdw{i}", $"Command dword {i}.", 0));
        var dataLength = NumberOption.UInt32("--data-len", "Bytes of data the command moves.", 0, "-l");
        var read = new Option<bool>("--read", "-r") { Description = "The command reads data from the controller. Default: from the opcode's bits 1:0." };
        var write = new Option<bool>("--write", "-w") { Description = "The command sends data to the controller. Default: from the opcode's bits 1:0." };
        var inputFile = new Option<string?>("--input-file") { Description = "Data to send with --write (zero-padded to --data-len)." };
        var command = ControllerVerb.Create(
            admin ? "admin-passthru" : "io-passthru",
            admin
                ? "Send any admin command and print the completion's DW0 and the data read."
                : "Send any I/O command on an I/O queue and print the completion's DW0 and the data read.",
            defaultIoQueues: admin ? 0 : 1,
            [opcode, namespaceId, .. cdws.Values, dataLength, read, write, inputFile],
            async (context, controller, cancellationToken) =>
            {
                var op = context.GetValue(opcode);
                var length = (int)Math.Min(context.GetValue(dataLength), 16u << 20);
                var (isRead, isWrite) = Direction(op, context.GetValue(read), context.GetValue(write));
                var sqe = new NvmeCommand
                {
                    Opcode = (byte)op,
                    NamespaceId = context.GetValue(namespaceId),
                    Cdw2 = context.GetValue(cdws[2]),
                    Cdw3 = context.GetValue(cdws[3]),
                    Cdw10 = context.GetValue(cdws[10]),
                    Cdw11 = context.GetValue(cdws[11]),
                    Cdw12 = context.GetValue(cdws[12]),
                    Cdw13 = context.GetValue(cdws[13]),
                    Cdw14 = context.GetValue(cdws[14]),
                    Cdw15 = context.GetValue(cdws[15]),
                };
                var sent = new byte[length > 0 && isWrite ? length : 0];
                if (sent.Length > 0 && context.GetValue(inputFile) is { } path)
                {
                    var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
                    bytes.AsSpan(0, Math.Min(bytes.Length, sent.Length)).CopyTo(sent);
                }

                var received = new byte[length > 0 && isRead ? length : 0];
                var completion = admin
                    ? await controller.AdminPassthruAsync(sqe, sent, received, cancellationToken).ConfigureAwait(false)
                    : await controller.NextIoQueue().IoPassthruAsync(sqe, sent, received, cancellationToken).ConfigureAwait(false);
                await context.PrintAsync(
                    writer =>
                    {
                        writer.WriteNumber("result", completion.Dword0);
                        writer.WriteNumber("dw1", completion.Dword1);
                        if (received.Length > 0)
                        {
                            writer.WriteString("data", JsonText.Hex(received));
                        }
                    },
                    () => $"NVMe command result:{completion.Dword0:x8}{Environment.NewLine}{(received.Length > 0 ? HexDump.Format(received) : string.Empty)}").ConfigureAwait(false);
                return ExitCodes.Ok;
            });
        command.Check(values =>
        {
            var (isRead, isWrite) = Direction(values.Get(opcode), values.Get(read), values.Get(write));
            return values.Get(dataLength) > 0 && isRead == isWrite ? "say which way the data goes: --read or --write" : null;
        });
        return command;
    }

    /// <summary>Which way data goes: as --read/--write say, else as the opcode's bits 1:0 do (01b host to controller, 10b controller to host).</summary>
    private static (bool IsRead, bool IsWrite) Direction(uint opcode, bool read, bool write) =>
        (read || (!write && (opcode & 2) != 0), write || (!read && (opcode & 1) != 0));
}
