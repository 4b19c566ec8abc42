using System.Buffers.Binary;
using NvmeTcp.Client;
using NvmeTcp.Protocol.Nvm;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Target.Internal.Execution;

/// <summary>NVM command set I/O commands (NVM Command Set 1.0 chapter 3), on the namespaces' stores.</summary>
internal sealed partial class CommandExecutor
{
    /// <summary>Most host data one command may make the target buffer, whatever MDTS says (MDTS 0 means no limit).</summary>
    private const uint MaxHostTransfer = 64 * 1024 * 1024;

    /// <summary>SCT 2 (media and data integrity errors), SC 80h: Write Fault, for a file write that failed.</summary>
    private const ushort WriteFault = 0x280;

    private void ExecuteIo(TargetRequest command, ReadOnlySpan<byte> data)
    {
        ref readonly var sqe = ref command.Sqe;
        var opcode = (NvmOpcode)sqe.Opcode;
        var subsystem = Controller!.Subsystem;
        if (opcode == NvmOpcode.Flush && sqe.Nsid == 0xFFFFFFFF)
        {
            FlushAll(command, subsystem);
            return;
        }

        var ns = subsystem.FindNamespace(sqe.Nsid);
        if (ns is null)
        {
            Complete(command, Status.Of(StatusCodes.InvalidNamespaceOrFormat));
            return;
        }

        if (AnaStatus(ns) is { } path)
        {
            Complete(command, path);
            return;
        }

        if (ReservationAccess(opcode) is { } write && ns.Reservations.Check(Controller.HostId, write) is { IsSuccess: false } conflict)
        {
            Complete(command, conflict);
            return;
        }

        switch (opcode)
        {
            case NvmOpcode.ReservationRegister:
            case NvmOpcode.ReservationAcquire:
            case NvmOpcode.ReservationRelease:
                ReservationCommand(command, ns, data);
                break;
            case NvmOpcode.ReservationReport:
                ReservationReport(command, ns);
                break;
            case NvmOpcode.Read:
                Read(command, ns);
                break;
            case NvmOpcode.Write:
                Write(command, ns, data);
                break;
            case NvmOpcode.Compare:
                CompareBlocks(command, ns, data);
                break;
            case NvmOpcode.WriteZeroes:
                WriteZeroes(command, ns);
                break;
            case NvmOpcode.DatasetManagement:
                DatasetManagement(command, ns, data);
                break;
            case NvmOpcode.Flush:
                Flush(command, ns);
                break;
            default:
                Complete(command, Status.Of(StatusCodes.InvalidOpcode));
                break;
        }
    }

    /// <summary>
    /// nvmet_check_ana_state: a command to a namespace whose ANA group is inaccessible, lost or in transition on the
    /// port this queue came through fails with that path status (SCT 3), DNR clear as nvmet leaves it, before it
    /// touches data or solicits any; null when the group is optimized or non-optimized there.
    /// </summary>
    private NvmeStatus? AnaStatus(TargetNamespace ns) => _queue.Port.Ana[ns.AnaGroupId] switch
    {
        AnaState.Inaccessible => Status.Of(StatusCodes.AnaInaccessible, doNotRetry: false),
        AnaState.PersistentLoss => Status.Of(StatusCodes.AnaPersistentLoss, doNotRetry: false),
        AnaState.Change => Status.Of(StatusCodes.AnaTransition, doNotRetry: false),
        _ => null,
    };

    // Whether a command reads (false) or writes (true) the namespace for reservation checks; null for neither.
    private static bool? ReservationAccess(NvmOpcode opcode) => opcode switch
    {
        NvmOpcode.Read or NvmOpcode.Compare => false,
        NvmOpcode.Write or NvmOpcode.WriteZeroes or NvmOpcode.DatasetManagement => true,
        _ => null,
    };

    // Register, Acquire, Release: CDW10 holds the action, IEKEY and RTYPE; the data the keys.
    private void ReservationCommand(TargetRequest command, TargetNamespace ns, ReadOnlySpan<byte> data)
    {
        ref readonly var sqe = ref command.Sqe;
        var opcode = (NvmOpcode)sqe.Opcode;
        var needed = opcode == NvmOpcode.ReservationRelease ? ReservationCommands.KeySize : ReservationCommands.KeyPairSize;
        if (data.Length != needed)
        {
            Complete(command, Status.Of(StatusCodes.DataSglLengthInvalid));
            return;
        }

        var action = (byte)(sqe.Cdw10 & 0x7);
        var ignoreKey = (sqe.Cdw10 & (1 << 3)) != 0;
        var type = (ReservationType)((sqe.Cdw10 >> 8) & 0xFF);
        var first = BinaryPrimitives.ReadUInt64LittleEndian(data);
        var second = data.Length >= 16 ? BinaryPrimitives.ReadUInt64LittleEndian(data[8..]) : 0;
        var host = Controller!.HostId;
        var status = opcode switch
        {
            NvmOpcode.ReservationRegister => (sqe.Cdw10 >> 30) is 0 or 2
                ? ns.Reservations.Register(host, (ReservationRegisterAction)action, ignoreKey, first, second)
                : Status.Of(StatusCodes.InvalidField), // CPTPL 1 or 3 asks for persistence this target does not offer
            NvmOpcode.ReservationAcquire => ns.Reservations.Acquire(host, (ReservationAcquireAction)action, type, ignoreKey, first, second),
            _ => ns.Reservations.Release(host, (ReservationReleaseAction)action, type, ignoreKey, first),
        };
        Complete(command, status);
    }

    private void ReservationReport(TargetRequest command, TargetNamespace ns)
    {
        ref readonly var sqe = ref command.Sqe;
        var length = ((ulong)sqe.Cdw10 + 1) * 4;
        if (length != sqe.SglLength)
        {
            Complete(command, Status.Of(StatusCodes.DataSglLengthInvalid));
            return;
        }

        // The buffer is sized by the host's NUMD: bounded by MDTS like any transfer.
        if ((long)length > Controller!.Subsystem.MaxTransferBytes || length > MaxHostTransfer)
        {
            Complete(command, Status.Of(StatusCodes.InvalidField));
            return;
        }

        var subsystem = Controller!.Subsystem;
        var buffer = new byte[(int)length];
        ns.Reservations.Report(buffer, extended: (sqe.Cdw11 & 1) != 0, host => subsystem.Controllers.FirstOrDefault(c => c.HostId == host)?.Cntlid ?? 0xFFFF);
        SendData(command, buffer);
    }

    /// <summary>The checks a write, compare or DSM passes before any R2T is sent.</summary>
    private NvmeStatus PrecheckIo(TargetRequest command, uint length)
    {
        ref readonly var sqe = ref command.Sqe;
        var ns = Controller!.Subsystem.FindNamespace(sqe.Nsid);
        if (ns is null)
        {
            return Status.Of(StatusCodes.InvalidNamespaceOrFormat);
        }

        if (AnaStatus(ns) is { } path)
        {
            return path;
        }

        if (ReservationAccess((NvmOpcode)sqe.Opcode) is { } write && ns.Reservations.Check(Controller.HostId, write) is { IsSuccess: false } conflict)
        {
            return conflict;
        }

        return (NvmOpcode)sqe.Opcode switch
        {
            NvmOpcode.ReservationRegister or NvmOpcode.ReservationAcquire => length == ReservationCommands.KeyPairSize ? NvmeStatus.Success : Status.Of(StatusCodes.DataSglLengthInvalid),
            NvmOpcode.ReservationRelease => length == ReservationCommands.KeySize ? NvmeStatus.Success : Status.Of(StatusCodes.DataSglLengthInvalid),
            NvmOpcode.Write or NvmOpcode.Compare => CheckBlocks(command, ns, transfer: true, out _, out _),
            NvmOpcode.DatasetManagement => length >= DsmLength(sqe) ? NvmeStatus.Success : Status.Of(StatusCodes.DataSglLengthInvalid),
            _ => Status.Of(StatusCodes.InvalidOpcode),
        };
    }

    /// <summary>
    /// SLBA (CDW10-11) and NLB (CDW12 bits 0-15, 0's based) inside the namespace (else LBA Out of Range); for a data
    /// transfer, at most MDTS (else Invalid Field) and exactly the SGL length (else Data SGL Length Invalid, as
    /// nvmet_check_transfer_len).
    /// </summary>
    private NvmeStatus CheckBlocks(TargetRequest command, TargetNamespace ns, bool transfer, out long offset, out int length)
    {
        ref readonly var sqe = ref command.Sqe;
        var slba = sqe.Cdw10 | ((ulong)sqe.Cdw11 << 32);
        var nlb = (sqe.Cdw12 & 0xFFFF) + 1;
        offset = 0;
        length = 0;
        if (slba >= ns.BlockCount || nlb > ns.BlockCount - slba)
        {
            return Status.Of(StatusCodes.LbaOutOfRange);
        }

        offset = (long)(slba << ns.BlockShift);
        var bytes = (long)nlb << ns.BlockShift;
        if (transfer)
        {
            if (bytes > Controller!.Subsystem.MaxTransferBytes || bytes > MaxHostTransfer)
            {
                return Status.Of(StatusCodes.InvalidField);
            }

            if (bytes != sqe.SglLength)
            {
                return Status.Of(StatusCodes.DataSglLengthInvalid);
            }
        }

        length = (int)Math.Min(bytes, int.MaxValue);
        return NvmeStatus.Success;
    }

    private void Read(TargetRequest command, TargetNamespace ns)
    {
        var status = CheckBlocks(command, ns, transfer: true, out var offset, out var length);
        if (!status.IsSuccess)
        {
            Complete(command, status);
            return;
        }

        Controller!.CountIo(write: false, length);
        if (ns.Store.IsSlow)
        {
            _queue.RunDeferred(command, (Store: ns.Store, Offset: offset, Length: length), static (s, done) =>
            {
                try
                {
                    done.SendData(s.Length, s, static (s, at, d) => s.Store.Read(s.Offset + at, d));
                }
                catch (IOException)
                {
                    done.Complete(Status.Of(StatusCodes.UnrecoveredReadError));
                }
            });
            return;
        }

        SendData(command, length, (Store: ns.Store, Offset: offset), static (s, at, d) => s.Store.Read(s.Offset + at, d));
    }

    private void Write(TargetRequest command, TargetNamespace ns, ReadOnlySpan<byte> data)
    {
        var status = CheckBlocks(command, ns, transfer: true, out var offset, out var length);
        if (status.IsSuccess && data.Length != length)
        {
            status = Status.Of(StatusCodes.DataSglLengthInvalid);
        }

        if (status.IsSuccess && ns.Store.IsSlow)
        {
            Controller!.CountIo(write: true, length);
            RunWithData(command, data, (Store: ns.Store, Offset: offset, Durable: MustBeDurable(command)), static (s, bytes) =>
            {
                s.Store.Write(s.Offset, bytes);
                if (s.Durable)
                {
                    s.Store.Flush();
                }

                return NvmeStatus.Success;
            });
            return;
        }

        if (status.IsSuccess)
        {
            ns.Store.Write(offset, data);
            Controller!.CountIo(write: true, length);
        }

        Complete(command, status);
    }

    /// <summary>
    /// FUA (CDW12 bit 30), or the host turned the volatile write cache off (Set Features 06h, WCE 0): the write is on
    /// the disk before it completes.
    /// </summary>
    private bool MustBeDurable(TargetRequest command) => (command.Sqe.Cdw12 & (1u << 30)) != 0 || !Controller!.WriteCacheEnabled;

    /// <summary>
    /// Runs a command with host data on a slow store off the receive loop: the data is copied (the receive buffer is
    /// reused at once), <paramref name="work"/> runs on the thread pool, and an I/O error is a Write Fault.
    /// </summary>
    private void RunWithData<TState>(TargetRequest command, ReadOnlySpan<byte> data, TState state, Func<TState, ReadOnlySpan<byte>, NvmeStatus> work)
    {
        var copy = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(1, data.Length));
        data.CopyTo(copy);
        _queue.RunDeferred(command, (State: state, Copy: copy, Length: data.Length, Work: work), static (s, done) =>
        {
            try
            {
                done.Complete(s.Work(s.State, s.Copy.AsSpan(0, s.Length)));
            }
            catch (IOException)
            {
                done.Complete(Status.Of(WriteFault));
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(s.Copy);
            }
        });
    }

    /// <summary>Runs a command without host data on a slow store off the receive loop; an I/O error is a Write Fault.</summary>
    private void RunSlow<TState>(TargetRequest command, TState state, Func<TState, NvmeStatus> work) =>
        _queue.RunDeferred(command, (State: state, Work: work), static (s, done) =>
        {
            try
            {
                done.Complete(s.Work(s.State));
            }
            catch (IOException)
            {
                done.Complete(Status.Of(WriteFault));
            }
        });

    /// <summary>Flush: nothing to do for memory; fsync for a file, off the receive loop.</summary>
    private void Flush(TargetRequest command, TargetNamespace ns)
    {
        if (!ns.Store.IsSlow)
        {
            Complete(command, NvmeStatus.Success);
            return;
        }

        RunSlow(command, ns.Store, static store =>
        {
            store.Flush();
            return NvmeStatus.Success;
        });
    }

    /// <summary>Flush with NSID FFFFFFFFh: every namespace of the subsystem.</summary>
    private void FlushAll(TargetRequest command, TargetSubsystem subsystem)
    {
        var slow = subsystem.Namespaces.Where(n => n.Store.IsSlow).Select(n => n.Store).ToArray();
        if (slow.Length == 0)
        {
            Complete(command, NvmeStatus.Success);
            return;
        }

        RunSlow(command, slow, static stores =>
        {
            foreach (var store in stores)
            {
                store.Flush();
            }

            return NvmeStatus.Success;
        });
    }

    private void CompareBlocks(TargetRequest command, TargetNamespace ns, ReadOnlySpan<byte> data)
    {
        var status = CheckBlocks(command, ns, transfer: true, out var offset, out var length);
        if (status.IsSuccess && data.Length != length)
        {
            status = Status.Of(StatusCodes.DataSglLengthInvalid);
        }

        if (status.IsSuccess && ns.Store.IsSlow)
        {
            RunWithData(command, data, (Store: ns.Store, Offset: offset), static (s, bytes) =>
                s.Store.Compare(s.Offset, bytes) ? NvmeStatus.Success : Status.Of(StatusCodes.CompareFailure));
            return;
        }

        if (status.IsSuccess && !ns.Store.Compare(offset, data))
        {
            status = Status.Of(StatusCodes.CompareFailure);
        }

        Complete(command, status);
    }

    /// <summary>Write Zeroes: no data moves, so MDTS does not apply; the blocks read as zeros (and their pages are freed).</summary>
    private void WriteZeroes(TargetRequest command, TargetNamespace ns)
    {
        var status = CheckBlocks(command, ns, transfer: false, out var offset, out _);
        var nlb = (command.Sqe.Cdw12 & 0xFFFF) + 1L;
        if (status.IsSuccess && ns.Store.IsSlow)
        {
            RunSlow(command, (Store: ns.Store, Offset: offset, Length: nlb << ns.BlockShift, Durable: MustBeDurable(command)), static s =>
            {
                s.Store.Zero(s.Offset, s.Length);
                if (s.Durable)
                {
                    s.Store.Flush();
                }

                return NvmeStatus.Success;
            });
            return;
        }

        if (status.IsSuccess)
        {
            ns.Store.Zero(offset, nlb << ns.BlockShift);
        }

        Complete(command, status);
    }

    /// <summary>
    /// Dataset Management: NR + 1 ranges of 16 bytes, in at least that much data (4-7 NLB, 1's based; 8-15 SLBA). With AD (CDW11 bit 2) every
    /// range is deallocated (its pages freed; DLFEAT says it then reads as zeros). All ranges are checked first.
    /// </summary>
    private void DatasetManagement(TargetRequest command, TargetNamespace ns, ReadOnlySpan<byte> data)
    {
        ref readonly var sqe = ref command.Sqe;
        // At least the ranges announced, as nvmet (nvmet_check_data_len_lte): the Linux host sends a whole 4 KiB page
        // for every discard. What follows them is not looked at.
        var length = DsmLength(sqe);
        if (data.Length < length)
        {
            Complete(command, Status.Of(StatusCodes.DataSglLengthInvalid));
            return;
        }

        data = data[..(int)length];

        for (var i = 0; i < data.Length; i += DatasetManagementCommand.RangeSize)
        {
            var nlb = BinaryPrimitives.ReadUInt32LittleEndian(data[(i + 4)..]);
            var slba = BinaryPrimitives.ReadUInt64LittleEndian(data[(i + 8)..]);
            if (slba > ns.BlockCount || nlb > ns.BlockCount - slba)
            {
                Complete(command, Status.Of(StatusCodes.LbaOutOfRange));
                return;
            }
        }

        if ((sqe.Cdw11 & (uint)DatasetAttributes.Deallocate) != 0 && ns.Store.Deallocates)
        {
            for (var i = 0; i < data.Length; i += DatasetManagementCommand.RangeSize)
            {
                var nlb = BinaryPrimitives.ReadUInt32LittleEndian(data[(i + 4)..]);
                var slba = BinaryPrimitives.ReadUInt64LittleEndian(data[(i + 8)..]);
                ns.Store.Zero((long)(slba << ns.BlockShift), (long)nlb << ns.BlockShift);
            }
        }

        Complete(command, NvmeStatus.Success);
    }

    private static uint DsmLength(in Sqe sqe) => (uint)(((sqe.Cdw10 & 0xFF) + 1) * DatasetManagementCommand.RangeSize);
}
