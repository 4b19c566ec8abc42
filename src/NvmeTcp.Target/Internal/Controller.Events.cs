using System.Buffers.Binary;
using NvmeTcp.Client;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol;
using NvmeTcp.Target.Internal.Execution;

namespace NvmeTcp.Target.Internal;

/// <summary>Asynchronous events, the logs they point to, and the statistics behind the SMART log.</summary>
internal sealed partial class Controller
{
    /// <summary>AER DW0 type 2: notice.</summary>
    public const byte EventTypeNotice = 2;

    /// <summary>Notice: namespace attribute changed (read log 0x04).</summary>
    public const byte NoticeNamespaceAttribute = 0x00;

    /// <summary>Notice: discovery log page changed (read log 0x70).</summary>
    public const byte NoticeDiscoveryLog = 0xF0;

    private readonly Queue<(ITargetQueue Connection, ushort Cid)> _pendingAers = new();
    private readonly Queue<uint> _pendingEvents = new();
    private readonly SortedSet<uint> _changedNamespaces = [];
    private readonly (ulong Count, ushort Sqid, ushort Cid, ushort Status)[] _errors = new (ulong, ushort, ushort, ushort)[ErrorLogEntries];
    private uint _asyncEventConfig;
    private uint _maskedNotices;
    private ulong _errorCount;
    private long _readCommands;
    private long _writeCommands;
    private long _blocksRead512;
    private long _blocksWritten512;

    public uint AsyncEventConfig
    {
        get
        {
            lock (_sync)
            {
                return _asyncEventConfig;
            }
        }
    }

    /// <summary>Set Features Asynchronous Event Configuration; false if a bit is not supported (nvmet: Invalid Field).</summary>
    public bool SetAsyncEventConfig(uint value)
    {
        if ((value & ~SupportedEvents) != 0)
        {
            return false;
        }

        lock (_sync)
        {
            _asyncEventConfig = value;
        }

        return true;
    }

    /// <summary>
    /// An Asynchronous Event Request arrived: it completes at once with a queued event, or waits. More than
    /// <see cref="MaxAsyncEvents"/> outstanding is refused with Asynchronous Event Request Limit Exceeded.
    /// </summary>
    /// <returns>The status to complete it with now, or null when it now waits for an event.</returns>
    public (NvmeStatus Status, uint Dw0)? SubmitAsyncEventRequest(ITargetQueue connection, ushort cid)
    {
        lock (_sync)
        {
            if (_pendingEvents.TryDequeue(out var dw0))
            {
                return (NvmeStatus.Success, dw0);
            }

            if (_pendingAers.Count >= MaxAsyncEvents)
            {
                return (Status.Of(StatusCodes.AsyncEventRequestLimitExceeded), 0);
            }

            _pendingAers.Enqueue((connection, cid));
            return null;
        }
    }

    /// <summary>Namespaces changed: remembered for log 0x04 and announced with a namespace attribute notice.</summary>
    public void NamespacesChanged(IEnumerable<uint> nsids)
    {
        lock (_sync)
        {
            foreach (var nsid in nsids)
            {
                _changedNamespaces.Add(nsid);
            }
        }

        RaiseNotice(NoticeNamespaceAttribute, LogPageId.ChangedNamespaceList, AsyncEventBits.NamespaceAttribute);
    }

    /// <summary>
    /// Raises a notice if the host enabled it and has not yet been told (nvmet masks an event type once sent until
    /// the host reads its log with RAE 0). DW0: bits 0-2 type, 8-15 info, 16-23 log page.
    /// </summary>
    public void RaiseNotice(byte info, byte logPage, uint configBit)
    {
        (ITargetQueue Connection, ushort Cid) aer;
        var dw0 = EventTypeNotice | ((uint)info << 8) | ((uint)logPage << 16);
        lock (_sync)
        {
            if (IsTornDown || (_asyncEventConfig & configBit) == 0 || (_maskedNotices & configBit) != 0)
            {
                return;
            }

            _maskedNotices |= configBit;
            if (!_pendingAers.TryDequeue(out aer))
            {
                _pendingEvents.Enqueue(dw0);
                return;
            }
        }

        _target.Log.AsyncEventSent(Cntlid, dw0);
        aer.Connection.CompleteDeferred(aer.Cid, NvmeStatus.Success, dw0);
    }

    /// <summary>A log page was read with RAE 0: its notice may be sent again (nvmet_clear_aen_bit).</summary>
    public void LogRead(byte logPage, bool retainAsyncEvent)
    {
        if (retainAsyncEvent)
        {
            return;
        }

        lock (_sync)
        {
            _maskedNotices &= logPage switch
            {
                LogPageId.ChangedNamespaceList => ~AsyncEventBits.NamespaceAttribute,
                LogPageId.Discovery => ~AsyncEventBits.DiscoveryLogChange,
                _ => ~0u,
            };
        }
    }

    /// <summary>Log 0x04: up to 1024 changed NSIDs, or 0xFFFFFFFF first when more changed; cleared unless RAE.</summary>
    public void WriteChangedNamespaceLog(Span<byte> log, bool retainAsyncEvent)
    {
        log.Clear();
        lock (_sync)
        {
            if (_changedNamespaces.Count > IdentifyWriter.MaxListEntries)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(log, 0xFFFFFFFF);
            }
            else
            {
                var i = 0;
                foreach (var nsid in _changedNamespaces)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(log[(4 * i++)..], nsid);
                }
            }

            if (!retainAsyncEvent)
            {
                _changedNamespaces.Clear();
            }
        }
    }

    /// <summary>Records a failed command for log 0x01 (ELPE + 1 most recent, newest first).</summary>
    public void RecordError(ushort sqid, ushort cid, NvmeStatus status)
    {
        lock (_sync)
        {
            _errorCount++;
            _errors[(int)(_errorCount % ErrorLogEntries)] = (_errorCount, sqid, cid, (ushort)(status.StatusField & ~1));
        }
    }

    /// <summary>Log 0x01: 64-byte entries, 0-7 error count, 8-9 SQID, 10-11 CID, 12-13 status field.</summary>
    public void WriteErrorLog(Span<byte> log)
    {
        log.Clear();
        lock (_sync)
        {
            for (var i = 0; i < ErrorLogEntries && (ulong)i < _errorCount; i++)
            {
                var e = _errors[(int)((_errorCount - (ulong)i) % ErrorLogEntries)];
                var entry = log.Slice(i * 64, 64);
                BinaryPrimitives.WriteUInt64LittleEndian(entry, e.Count);
                BinaryPrimitives.WriteUInt16LittleEndian(entry[8..], e.Sqid);
                BinaryPrimitives.WriteUInt16LittleEndian(entry[10..], e.Cid);
                BinaryPrimitives.WriteUInt16LittleEndian(entry[12..], e.Status);
                entry[29] = 3; // TRTYPE: TCP
            }
        }
    }

    /// <summary>Counts a read or write for the SMART log.</summary>
    public void CountIo(bool write, long bytes)
    {
        if (write)
        {
            Interlocked.Increment(ref _writeCommands);
            Interlocked.Add(ref _blocksWritten512, bytes / 512);
        }
        else
        {
            Interlocked.Increment(ref _readCommands);
            Interlocked.Add(ref _blocksRead512, bytes / 512);
        }
    }

    /// <summary>
    /// Log 0x02, SMART / Health Information (512 bytes): 1-2 composite temperature (K), 3 available spare 100%,
    /// 4 threshold 10%, 32-47 data units read and 48-63 written (thousands of 512-byte units, rounded up),
    /// 64-79 read and 80-95 write commands, 176-191 error log entries.
    /// </summary>
    public void WriteSmartLog(Span<byte> log)
    {
        log.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(log[1..], 300);
        log[3] = 100;
        log[4] = 10;
        BinaryPrimitives.WriteUInt64LittleEndian(log[32..], (ulong)((Interlocked.Read(ref _blocksRead512) + 999) / 1000));
        BinaryPrimitives.WriteUInt64LittleEndian(log[48..], (ulong)((Interlocked.Read(ref _blocksWritten512) + 999) / 1000));
        BinaryPrimitives.WriteUInt64LittleEndian(log[64..], (ulong)Interlocked.Read(ref _readCommands));
        BinaryPrimitives.WriteUInt64LittleEndian(log[80..], (ulong)Interlocked.Read(ref _writeCommands));
        lock (_sync)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(log[176..], _errorCount);
        }
    }
}

/// <summary>Status helpers: codes as <c>SCT &lt;&lt; 8 | SC</c> (<see cref="StatusCodes"/>).</summary>
internal static class Status
{
    /// <summary>The status <paramref name="code"/>, with DNR unless <paramref name="doNotRetry"/> is false.</summary>
    public static NvmeStatus Of(ushort code, bool doNotRetry = true) =>
        new((NvmeStatusCodeType)(code >> 8), (byte)code, doNotRetry);
}
