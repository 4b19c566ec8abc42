using System.Buffers;
using NvmeTcp.Client;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Spec;
using NvmeTcp.Protocol;

namespace NvmeTcp.Target.Internal.Execution;

/// <summary>Admin commands (NVMe Base 2.0 chapter 5), for I/O and discovery controllers (nvmet's admin-cmd.c and discovery.c).</summary>
internal sealed partial class CommandExecutor
{
    private const ushort FeatureNotSaveable = 0x10D;

    private void ExecuteAdmin(TargetRequest command, ReadOnlySpan<byte> data)
    {
        var controller = Controller!;
        var discovery = controller.Subsystem.IsDiscovery;
        switch ((AdminOpcode)command.Sqe.Opcode)
        {
            case AdminOpcode.Identify:
                Identify(command, controller);
                break;
            case AdminOpcode.GetLogPage:
                GetLogPage(command, controller);
                break;
            case AdminOpcode.SetFeatures:
                SetFeatures(command, controller);
                break;
            case AdminOpcode.GetFeatures:
                GetFeatures(command, controller);
                break;
            case AdminOpcode.AsynchronousEventRequest:
                AsynchronousEventRequest(command, controller);
                break;
            case AdminOpcode.KeepAlive:
                _target.Testing.CountKeepAlive();
                Complete(command, NvmeStatus.Success);
                break;
            case AdminOpcode.Abort when !discovery:
                // Best effort, as nvmet: DW0 bit 0 set means "command not aborted".
                Complete(command, NvmeStatus.Success, 1);
                break;
            default:
                Complete(command, Status.Of(StatusCodes.InvalidOpcode));
                break;
        }
    }

    private void Identify(TargetRequest command, Controller controller)
    {
        ref readonly var sqe = ref command.Sqe;
        if (sqe.SglLength != IdentifyWriter.Size)
        {
            Complete(command, Status.Of(StatusCodes.DataSglLengthInvalid));
            return;
        }

        var cns = (byte)sqe.Cdw10;
        var subsystem = controller.Subsystem;
        if (subsystem.IsDiscovery && cns != IdentifyCns.Controller)
        {
            Complete(command, Status.Of(StatusCodes.InvalidField));
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(IdentifyWriter.Size);
        try
        {
            var d = buffer.AsSpan(0, IdentifyWriter.Size);
            var nsid = sqe.Nsid;
            switch (cns)
            {
                case IdentifyCns.Controller:
                    IdentifyWriter.Controller(d, controller, _target.Options);
                    break;
                case IdentifyCns.Namespace when nsid is not (0 or 0xFFFFFFFF):
                    IdentifyWriter.Namespace(d, subsystem.FindNamespace(nsid), _queue.Port.Ana);
                    break;
                case IdentifyCns.ActiveNamespaceList when nsid < 0xFFFFFFFE:
                    IdentifyWriter.ActiveNamespaces(d, subsystem.Namespaces, nsid);
                    break;
                case IdentifyCns.NamespaceDescriptors when subsystem.FindNamespace(nsid) is { } ns:
                    IdentifyWriter.NamespaceDescriptors(d, ns);
                    break;
                case IdentifyWriter.CnsIoCommandSetController when (byte)(sqe.Cdw11 >> 24) == NamespaceDescriptorLayout.CsiNvm:
                    IdentifyWriter.NvmCommandSetController(d);
                    break;
                case IdentifyCns.Namespace or IdentifyCns.ActiveNamespaceList or IdentifyCns.NamespaceDescriptors:
                    Complete(command, Status.Of(StatusCodes.InvalidNamespaceOrFormat));
                    return;
                default:
                    Complete(command, Status.Of(StatusCodes.InvalidField));
                    return;
            }

            SendData(command, d);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Get Log Page: NUMD (0's based dwords across CDW10/CDW11) and the dword-aligned offset (CDW12/13) select a part
    /// of the log that starts inside it; bytes past its end read as zeros. Reading with RAE clear re-arms the log's event.
    /// </summary>
    private void GetLogPage(TargetRequest command, Controller controller)
    {
        ref readonly var sqe = ref command.Sqe;
        var lid = (byte)sqe.Cdw10;
        var retain = (sqe.Cdw10 & (1u << 15)) != 0;
        var dwords = ((ulong)(sqe.Cdw11 & 0xFFFF) << 16 | (sqe.Cdw10 >> 16)) + 1;
        var length = dwords * 4;
        var offset = sqe.Cdw12 | ((ulong)sqe.Cdw13 << 32);
        var returnGroupsOnly = ((sqe.Cdw10 >> 8) & AnaLogLayout.ReturnGroupsOnly) != 0; // LSP, CDW10 bits 8-14

        // Over MDTS, as Read and Write: Invalid Field in Command. Nothing is read or built for it.
        if (length > (ulong)controller.Subsystem.MaxTransferBytes)
        {
            Complete(command, Status.Of(StatusCodes.InvalidField));
            return;
        }

        if (length != sqe.SglLength || length > MaxHostTransfer)
        {
            Complete(command, Status.Of(StatusCodes.DataSglLengthInvalid));
            return;
        }

        if ((offset & 3) != 0)
        {
            Complete(command, Status.Of(StatusCodes.InvalidField));
            return;
        }

        var discovery = controller.Subsystem.IsDiscovery;
        var size = (discovery, lid) switch
        {
            (true, LogPageId.Discovery) => DiscoveryLogWriter.SizeFor(_target, controller),
            (false, LogPageId.ErrorInformation) => Internal.Controller.ErrorLogEntries * ErrorLogEntryLayout.Size,
            (false, LogPageId.SmartHealth) => SmartLogLayout.Size,
            (false, LogPageId.ChangedNamespaceList) => NamespaceListLayout.Size,
            (false, LogPageId.CommandsSupportedAndEffects) => CommandEffectsLayout.Size,
            (false, LogPageId.FirmwareSlot) => LogPageWriter.FirmwareSlotSize,
            (false, LogPageId.AsymmetricNamespaceAccess) => AnaLogWriter.SizeFor(controller.Subsystem, returnGroupsOnly),
            (_, LogPageWriter.SupportedLogPagesId) => LogPageWriter.SupportedLogPagesSize,
            _ => -1,
        };
        // An offset past the end of the log is Invalid Field in Command (NVMe Base 2.0, 5.16: LPOL/LPOU greater than
        // the size of the log page); a length past it is not (the bytes beyond are undefined; they read as zeros).
        if (size < 0 || offset > (ulong)size)
        {
            Complete(command, Status.Of(StatusCodes.InvalidField));
            return;
        }

        var image = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var log = image.AsSpan(0, size);
            switch (lid)
            {
                case LogPageId.Discovery:
                    DiscoveryLogWriter.Write(log, _target, controller, _queue.Port);
                    break;
                case LogPageId.ErrorInformation:
                    controller.WriteErrorLog(log);
                    break;
                case LogPageId.SmartHealth:
                    controller.WriteSmartLog(log);
                    break;
                case LogPageId.ChangedNamespaceList:
                    controller.WriteChangedNamespaceLog(log, retain);
                    break;
                case LogPageId.AsymmetricNamespaceAccess:
                    AnaLogWriter.Write(log, _target, controller.Subsystem, _queue.Port.PortId, returnGroupsOnly);
                    break;
                case LogPageId.FirmwareSlot:
                    LogPageWriter.FirmwareSlot(log, controller.Subsystem.FirmwareRevision);
                    break;
                case LogPageWriter.SupportedLogPagesId:
                    LogPageWriter.SupportedLogPages(log, discovery);
                    break;
                default:
                    LogPageWriter.CommandsSupported(log);
                    break;
            }

            controller.LogRead(lid, retain);
            var state = (Image: image, Size: size, Offset: offset);
            SendData(command, (int)length, state, static (s, at, d) =>
            {
                var from = s.Offset + (ulong)at;
                var available = from >= (ulong)s.Size ? 0 : (int)Math.Min((ulong)d.Length, (ulong)s.Size - from);
                s.Image.AsSpan((int)Math.Min(from, (ulong)s.Size), available).CopyTo(d);
                d[available..].Clear();
            });
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(image);
        }
    }

    private void SetFeatures(TargetRequest command, Controller controller)
    {
        ref readonly var sqe = ref command.Sqe;
        var fid = (byte)sqe.Cdw10;
        if ((sqe.Cdw10 & (1u << 31)) != 0)
        {
            Complete(command, Status.Of(FeatureNotSaveable));
            return;
        }

        var discovery = controller.Subsystem.IsDiscovery;
        switch (fid)
        {
            case FeatureId.NumberOfQueues when !discovery:
                var nsqr = sqe.Cdw11 & 0xFFFF;
                var ncqr = sqe.Cdw11 >> 16;
                if (nsqr == 0xFFFF || ncqr == 0xFFFF)
                {
                    Complete(command, Status.Of(StatusCodes.InvalidField));
                    return;
                }

                // Grants min(requested, configured); nvmet always answers its own maximum (subsys->max_qid), which
                // the spec allows too: a host must use no more than what it asked for and what was granted.
                var granted = (uint)controller.GrantQueues((int)Math.Min(nsqr, ncqr) + 1) - 1;
                Complete(command, NvmeStatus.Success, granted | (granted << 16));
                return;
            case FeatureId.AsyncEventConfiguration:
                Complete(command, controller.SetAsyncEventConfig(sqe.Cdw11) ? NvmeStatus.Success : Status.Of(StatusCodes.InvalidField));
                return;
            case FeatureId.KeepAliveTimer:
                controller.SetKeepAliveTimeout(sqe.Cdw11);
                Complete(command, NvmeStatus.Success);
                return;
            case var _ when !discovery && controller.SetSimpleFeature(fid, sqe.Cdw11) is { } accepted:
                Complete(command, accepted ? NvmeStatus.Success : Status.Of(StatusCodes.InvalidField));
                return;
            default:
                Complete(command, Status.Of(StatusCodes.InvalidField));
                return;
        }
    }

    private void GetFeatures(TargetRequest command, Controller controller)
    {
        var fid = (byte)command.Sqe.Cdw10;
        var discovery = controller.Subsystem.IsDiscovery;
        uint? value = fid switch
        {
            FeatureId.NumberOfQueues when !discovery => (uint)(controller.GrantedQueues - 1) * 0x10001u,
            FeatureId.AsyncEventConfiguration => controller.AsyncEventConfig,
            FeatureId.KeepAliveTimer => controller.KeepAliveTimeoutMs,
            _ when !discovery => controller.GetSimpleFeature(fid, command.Sqe.Cdw11),
            _ => null,
        };
        Complete(command, value is null ? Status.Of(StatusCodes.InvalidField) : NvmeStatus.Success, value ?? 0);
    }

    /// <summary>
    /// Asynchronous Event Request: deferred before the controller sees it, so that an event raised on another thread
    /// completes it without touching the receive loop's state.
    /// </summary>
    private void AsynchronousEventRequest(TargetRequest command, Controller controller)
    {
        var cid = command.Cid;
        _queue.Defer(command);
        if (controller.SubmitAsyncEventRequest(_queue, cid) is { } now)
        {
            _ = _queue.CompleteDeferred(cid, now.Status, now.Dw0);
        }
    }
}
