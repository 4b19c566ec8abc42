using System.Buffers.Binary;
using System.Text;
using NvmeTcp.Client;
using NvmeTcp.Protocol.Fabrics;
using NvmeTcp.Protocol.Spec;
using NvmeTcp.Protocol;

namespace NvmeTcp.Target.Internal.Execution;

/// <summary>
/// The fabrics commands (NVMe-oF 1.1 chapter 3): Connect, Property Get and Property Set, following nvmet's
/// <c>fabrics-cmd.c</c> for statuses and the CQE DW0 of a refused Connect.
/// </summary>
internal sealed partial class CommandExecutor
{
    /// <summary>IPO_IATTR_CONNECT_DATA: bit 16 says the offset in DW0 points into the Connect data.</summary>
    private const uint ConnectDataAttribute = 1u << 16;

    private void ExecuteFabrics(TargetRequest command, ReadOnlySpan<byte> data)
    {
        var type = (FabricsCommandType)command.Sqe.FabricsCommandType;
        if (Controller is null)
        {
            if (type != FabricsCommandType.Connect)
            {
                Complete(command, Status.Of(StatusCodes.InvalidOpcode));
                return;
            }

            var status = Connect(command, data, out var dw0);
            Complete(command, status, dw0);
            return;
        }

        // Property commands only on the admin queue; Connect only once per queue (nvmet_parse_fabrics_*_cmd).
        switch (type)
        {
            case FabricsCommandType.PropertyGet when QueueId == 0:
                PropertyGet(command);
                break;
            case FabricsCommandType.PropertySet when QueueId == 0:
                PropertySet(command);
                break;
            case FabricsCommandType.AuthenticationSend:
                AuthenticationSend(command, data);
                break;
            case FabricsCommandType.AuthenticationReceive:
                AuthenticationReceive(command);
                break;
            default:
                Complete(command, Status.Of(StatusCodes.InvalidOpcode));
                break;
        }
    }

    /// <summary>
    /// Connect (NVMe-oF 1.1 3.3): admin queue (QID 0) creates a dynamic controller; an I/O queue joins the controller
    /// named by CNTLID, for the same host. Refusals carry DNR and, for Connect Invalid Parameters, DW0 locating the
    /// field: an SQE byte offset, or bit 16 plus a byte offset into the Connect data (nvmet's IPO_IATTR_*).
    /// </summary>
    private NvmeStatus Connect(TargetRequest command, ReadOnlySpan<byte> data, out uint dw0)
    {
        dw0 = 0;
        ref readonly var sqe = ref command.Sqe;
        if (data.Length != ConnectData.Size)
        {
            return Status.Of(StatusCodes.DataSglLengthInvalid);
        }

        if (sqe.ReadUInt16(ConnectCommand.RecordFormatOffset) != 0)
        {
            return Status.Of(StatusCodes.ConnectIncompatibleFormat);
        }

        var qid = sqe.ReadUInt16(ConnectCommand.QueueIdOffset);
        var sqsize = sqe.ReadUInt16(ConnectCommand.SqSizeOffset);
        var cattr = sqe[ConnectCommand.AttributesOffset];
        var kato = sqe.ReadUInt32(ConnectCommand.KeepAliveTimeoutOffset);
        var hostId = new Guid(data.Slice(ConnectData.HostIdOffset, 16), bigEndian: true);
        var cntlid = BinaryPrimitives.ReadUInt16LittleEndian(data[ConnectData.ControllerIdOffset..]);
        var subsystemNqn = ReadNqn(data.Slice(ConnectData.SubsystemNqnOffset, ConnectData.NqnFieldSize));
        var hostNqn = ReadNqn(data.Slice(ConnectData.HostNqnOffset, ConnectData.NqnFieldSize));

        var subsystem = _target.FindSubsystem(subsystemNqn);
        if (subsystem is null)
        {
            _target.Log.ConnectRefused(hostNqn, subsystemNqn, qid, "unknown subsystem");
            dw0 = ConnectDataAttribute | ConnectData.SubsystemNqnOffset;
            return Status.Of(StatusCodes.ConnectInvalidParameters);
        }

        if (!subsystem.IsHostAllowed(hostNqn))
        {
            _target.Log.ConnectRefused(hostNqn, subsystemNqn, qid, "host not allowed");
            dw0 = ConnectDataAttribute | ConnectData.HostNqnOffset;
            return Status.Of(StatusCodes.ConnectInvalidHost);
        }

        // A generated PSK (NVMe1G) belongs to the host and subsystem whose exchange made it: another Connect over it is
        // refused, as a Connect for another host would be.
        if (_queue.TlsIdentity is { } identity && _target.GeneratedPsks.TryFind(identity, out _, out var keyHost, out var keySubsystem)
            && (keyHost != hostNqn || keySubsystem != subsystemNqn))
        {
            _target.Log.ConnectRefused(hostNqn, subsystemNqn, qid, "the generated TLS PSK of the connection belongs to another host or subsystem");
            dw0 = ConnectDataAttribute | ConnectData.HostNqnOffset;
            return Status.Of(StatusCodes.ConnectInvalidHost);
        }

        // nvmet refuses only SQSIZE 0 on the admin queue; the spec's minimum admin queue is 32 entries (ASQSZ),
        // which this stricter oracle also enforces.
        if (sqsize == 0 || (qid == 0 && sqsize < 31) || (qid != 0 && sqsize > subsystem.MaxQueueSize - 1))
        {
            dw0 = ConnectCommand.SqSizeOffset;
            return Status.Of(StatusCodes.ConnectInvalidParameters);
        }

        Controller? controller;
        if (qid == 0)
        {
            if (cntlid != ConnectData.DynamicControllerId)
            {
                dw0 = ConnectDataAttribute | ConnectData.ControllerIdOffset;
                return Status.Of(StatusCodes.ConnectInvalidParameters);
            }

            controller = subsystem.CreateController(id => new Controller(_target, subsystem, id, hostNqn, hostId, kato, _queue.Port.PortId));
            if (controller is null)
            {
                return Status.Of(StatusCodes.ConnectControllerBusy);
            }

            controller.AddQueue(0, _queue);
            _target.Log.ControllerCreated(controller.Cntlid, subsystem.Nqn, hostNqn, controller.KeepAliveTimeoutMs);
        }
        else
        {
            controller = subsystem.FindController(cntlid);
            if (controller is null || controller.IsTornDown || controller.HostNqn != hostNqn)
            {
                _target.Log.ConnectRefused(hostNqn, subsystemNqn, qid, $"no controller {cntlid} for this host");
                dw0 = ConnectDataAttribute | ConnectData.ControllerIdOffset;
                return Status.Of(StatusCodes.ConnectInvalidParameters);
            }

            // nvmet matches CNTLID and host NQN only. A Host Identifier names one host, though, and the association
            // belongs to the host that created it: another HOSTID is refused, and DW0 points at HOSTID.
            if (controller.HostId != hostId)
            {
                _target.Log.ConnectRefused(hostNqn, subsystemNqn, qid, $"HOSTID {hostId} is not controller {cntlid}'s");
                dw0 = ConnectDataAttribute | ConnectData.HostIdOffset;
                return Status.Of(StatusCodes.ConnectInvalidParameters);
            }

            if (qid > controller.GrantedQueues)
            {
                dw0 = ConnectCommand.QueueIdOffset;
                return Status.Of(StatusCodes.ConnectInvalidParameters);
            }

            if (!controller.AddQueue(qid, _queue))
            {
                return Status.Of(StatusCodes.CommandSequenceError);
            }
        }

        _queue.Bind(controller, qid, sqsize + 1, (cattr & (byte)ConnectAttributes.DisableSqFlowControl) != 0);
        dw0 = controller.Cntlid;
        BeginAuthentication(subsystem, hostNqn, ref dw0);
        return NvmeStatus.Success;
    }

    /// <summary>Property Get: CAP as 8 bytes only; VS, CC and CSTS as 4 bytes (nvmet_execute_prop_get).</summary>
    private void PropertyGet(TargetRequest command)
    {
        var controller = Controller!;
        var eightBytes = (PropertySize)(command.Sqe[PropertyCommands.AttributesOffset] & 0x7) == PropertySize.EightBytes;
        var offset = command.Sqe.ReadUInt32(PropertyCommands.PropertyOffsetOffset);
        ulong? value = (eightBytes, offset) switch
        {
            (true, ControllerProperty.Cap) => controller.Cap,
            (false, ControllerProperty.Vs) => Internal.Controller.Version,
            (false, ControllerProperty.Cc) => controller.Cc,
            (false, ControllerProperty.Csts) => controller.Csts,
            _ => null,
        };
        if (value is { } v)
        {
            Complete(command, NvmeStatus.Success, (uint)v, (uint)(v >> 32));
        }
        else
        {
            Complete(command, Status.Of(StatusCodes.InvalidField));
        }
    }

    /// <summary>Property Set: only CC, 4 bytes (nvmet_execute_prop_set).</summary>
    private void PropertySet(TargetRequest command)
    {
        var eightBytes = (PropertySize)(command.Sqe[PropertyCommands.AttributesOffset] & 0x7) == PropertySize.EightBytes;
        var offset = command.Sqe.ReadUInt32(PropertyCommands.PropertyOffsetOffset);
        if (eightBytes || offset != ControllerProperty.Cc)
        {
            Complete(command, Status.Of(StatusCodes.InvalidField));
            return;
        }

        Controller!.SetCc(command.Sqe.ReadUInt32(PropertyCommands.ValueOffset));
        Complete(command, NvmeStatus.Success);
    }

    private static string ReadNqn(ReadOnlySpan<byte> field)
    {
        var nul = field.IndexOf((byte)0);
        // nvmet forces a NUL in the last byte of each 256-byte field; an unterminated NQN is cut there too.
        return Encoding.UTF8.GetString(nul < 0 ? field[..^1] : field[..nul]);
    }
}
