using NvmeTcp.Client;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Fabrics;

namespace NvmeTcp.Target.Internal.Execution;

/// <summary>
/// Runs the commands of one queue: what a command means, which host data it needs, and how it completes, as nvmet
/// keeps <c>fabrics-cmd.c</c>, <c>admin-cmd.c</c>, <c>discovery.c</c> and <c>io-cmd-*.c</c> apart from
/// <c>tcp.c</c>. It sees a command's SQE, its host data once all of it has arrived, and <see cref="ITargetQueue"/>;
/// the transport asks it, before soliciting data with an R2T, whether the command may have it.
/// </summary>
internal sealed partial class CommandExecutor
{
    private readonly NvmeTcpTarget _target;
    private readonly ITargetQueue _queue;

    public CommandExecutor(NvmeTcpTarget target, ITargetQueue queue)
    {
        _target = target;
        _queue = queue;
    }

    private int QueueId => _queue.QueueId;

    private Controller? Controller => _queue.Controller;

    /// <summary>The data direction of a command: bits 0-1 of the opcode (of FCTYPE for fabrics commands).</summary>
    public static DataTransfer TransferOf(in Sqe sqe)
    {
        var code = sqe.Opcode == FabricsCommand.Opcode ? sqe.FabricsCommandType : sqe.Opcode;
        return (DataTransfer)(code & 0x3);
    }

    /// <summary>Runs a command whose data (if any) has all arrived.</summary>
    public void Execute(TargetRequest command, ReadOnlySpan<byte> data)
    {
        if (command.Sqe.Opcode == FabricsCommand.Opcode)
        {
            ExecuteFabrics(command, data);
            return;
        }

        var gate = Gate(command);
        if (!gate.IsSuccess)
        {
            Complete(command, gate);
            return;
        }

        if (QueueId == 0)
        {
            ExecuteAdmin(command, data);
        }
        else
        {
            ExecuteIo(command, data);
        }
    }

    /// <summary>
    /// Checks a command that will move <paramref name="length"/> bytes of host data by R2T, before any R2T goes out:
    /// a refusal completes it without soliciting data, as nvmet does when <c>nvmet_req_init</c> fails.
    /// </summary>
    public NvmeStatus PrecheckHostData(TargetRequest command, uint length)
    {
        ref readonly var sqe = ref command.Sqe;
        if (sqe.Opcode == FabricsCommand.Opcode)
        {
            return PrecheckFabrics(command, length);
        }

        var gate = Gate(command);
        if (!gate.IsSuccess)
        {
            return gate;
        }

        var limit = Math.Min(Controller!.Subsystem.MaxTransferBytes, MaxHostTransfer);
        if (length > limit)
        {
            return Status.Of(StatusCodes.InvalidField);
        }

        if (QueueId > 0)
        {
            return PrecheckIo(command, length);
        }

        // No admin command this target implements takes host data: Set Features of its features moves none (nvmet's
        // nvmet_feat_data_len is 0 for them), anything else is an opcode it does not implement.
        return (AdminOpcode)sqe.Opcode == AdminOpcode.SetFeatures ? Status.Of(StatusCodes.DataSglLengthInvalid) : Status.Of(StatusCodes.InvalidOpcode);
    }

    /// <summary>
    /// A fabrics command with host data: Connect (its 1,024 bytes may come by R2T) only before the queue is connected,
    /// anything else only after, as <see cref="ExecuteFabrics"/> decides.
    /// </summary>
    private NvmeStatus PrecheckFabrics(TargetRequest command, uint length)
    {
        var connect = (FabricsCommandType)command.Sqe.FabricsCommandType == FabricsCommandType.Connect;
        if (connect != (Controller is null))
        {
            return Status.Of(StatusCodes.InvalidOpcode);
        }

        if (connect)
        {
            return length == ConnectData.Size ? NvmeStatus.Success : Status.Of(StatusCodes.DataSglLengthInvalid);
        }

        return length > Math.Min(Controller!.Subsystem.MaxTransferBytes, MaxHostTransfer) ? Status.Of(StatusCodes.InvalidField) : NvmeStatus.Success;
    }

    /// <summary>
    /// What nvmet checks before it parses a non-fabrics command: the queue is connected (else Invalid Opcode, as
    /// <c>nvmet_parse_connect_cmd</c>), and the controller enabled and ready (else Command Sequence Error, as
    /// <c>nvmet_check_ctrl_status</c>; a discovery controller answers Invalid Opcode, as
    /// <c>nvmet_parse_discovery_cmd</c>).
    /// </summary>
    private NvmeStatus Gate(TargetRequest command)
    {
        var controller = Controller;
        if (controller is null)
        {
            return Status.Of(StatusCodes.InvalidOpcode);
        }

        // nvmet_check_auth_status: a queue that owes authentication runs nothing else (fabrics commands pass here
        // and are sorted in ExecuteFabrics).
        if (AwaitingAuthentication && command.Sqe.Opcode != FabricsCommand.Opcode)
        {
            return Status.Of(StatusCodes.AuthenticationRequired);
        }

        if (command.Sqe.Opcode == FabricsCommand.Opcode || controller.IsReady)
        {
            return NvmeStatus.Success;
        }

        return Status.Of(controller.Subsystem.IsDiscovery ? StatusCodes.InvalidOpcode : StatusCodes.CommandSequenceError);
    }

    private void Complete(TargetRequest command, NvmeStatus status, uint dw0 = 0, uint dw1 = 0) =>
        _queue.Complete(command, status, dw0, dw1);

    private void SendData<TState>(TargetRequest command, int length, TState state, C2HFill<TState> fill) =>
        _queue.SendData(command, length, state, fill);

    /// <summary>Sends a small structure already in memory (Identify data, a log page slice).</summary>
    private void SendData(TargetRequest command, ReadOnlySpan<byte> data)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(1, data.Length));
        data.CopyTo(buffer);
        SendData(command, data.Length, buffer, static (b, offset, d) => b.AsSpan(offset, d.Length).CopyTo(d));
        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
    }
}
