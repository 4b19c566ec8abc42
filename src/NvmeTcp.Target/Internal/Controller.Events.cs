using System.Buffers.Binary;
using NvmeTcp.Client;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Spec;
using NvmeTcp.Target.Internal.Execution;

namespace NvmeTcp.Target.Internal;

/// <summary>Asynchronous events, the logs they point to, and the statistics behind the SMART log.</summary>
internal sealed partial class Controller
{
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

    /// <summary>
    /// Set Features Asynchronous Event Configuration; false if a notice bit is not supported (nvmet: Invalid Field).
    /// The SMART / health critical warning bits (0-7) are accepted and kept, as nvmet does, although no such event is
    /// ever sent: SPDK's host always sets them and runs with no AER at all when they are refused.
    /// </summary>
    public bool SetAsyncEventConfig(uint value)
    {
        if ((value & ~(SupportedEvents | (uint)AsyncEventConfiguration.SmartCriticalWarnings)) != 0)
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

        RaiseNotice(AsyncEventNotice.NamespaceAttributeChanged);
    }

    /// <summary>
    /// Raises a notice if the host enabled it and has not yet been told (nvmet masks an event type once sent until
    /// the host reads its log with RAE 0). DW0 names the notice's log page.
    /// </summary>
    public void RaiseNotice(AsyncEventNotice notice)
    {
        (ITargetQueue Connection, ushort Cid) aer;
        var dw0 = AsyncEventCompletion.Notice(notice).ToDword0();
        var configBit = (uint)AsyncEventNotices.ConfigurationOf(notice);
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

        // An AER retired on its queue meanwhile (its CID reused) takes nothing: the next one gets the event, or it waits.
        for (var tries = 0; !aer.Connection.CompleteDeferred(aer.Cid, NvmeStatus.Success, dw0); tries++)
        {
            lock (_sync)
            {
                if (tries >= MaxAsyncEvents || !_pendingAers.TryDequeue(out aer))
                {
                    _pendingEvents.Enqueue(dw0);
                    return;
                }
            }
        }

        _target.Log.AsyncEventSent(Cntlid, dw0);
    }

    /// <summary>
    /// A command on <paramref name="connection"/> reused the CID of one of its outstanding AERs: the host has given
    /// that AER up (SPDK's host completes its AERs itself when it detaches), so it no longer waits for an event.
    /// </summary>
    public void RetireAsyncEventRequest(ITargetQueue connection, ushort cid)
    {
        lock (_sync)
        {
            var kept = _pendingAers.Where(a => a.Connection != connection || a.Cid != cid).ToArray();
            _pendingAers.Clear();
            foreach (var aer in kept)
            {
                _pendingAers.Enqueue(aer);
            }
        }
    }

    /// <summary>A log page was read with RAE 0: its notice may be sent again (nvmet_clear_aen_bit).</summary>
    public void LogRead(byte logPage, bool retainAsyncEvent)
    {
        if (retainAsyncEvent)
        {
            return;
        }

        if (!AsyncEventNotices.TryFromLogPage(logPage, out var notice))
        {
            return;
        }

        lock (_sync)
        {
            _maskedNotices &= ~(uint)AsyncEventNotices.ConfigurationOf(notice);
        }
    }

    /// <summary>Log 0x04 (<see cref="NamespaceListLayout"/>): the changed NSIDs, or the overflow mark when more changed; cleared unless RAE.</summary>
    public void WriteChangedNamespaceLog(Span<byte> log, bool retainAsyncEvent)
    {
        log.Clear();
        lock (_sync)
        {
            if (_changedNamespaces.Count > NamespaceListLayout.MaxEntries)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(log, NamespaceListLayout.Overflow);
            }
            else
            {
                var i = 0;
                foreach (var nsid in _changedNamespaces)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(log[(NamespaceListLayout.EntrySize * i++)..], nsid);
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
            _errors[(int)(_errorCount % ErrorLogEntries)] = (_errorCount, sqid, cid, status.StatusField); // phase tag 0
        }
    }

    /// <summary>Log 0x01 (<see cref="ErrorLogEntryLayout"/>): error count, SQID, CID, status field and TRTYPE, newest first.</summary>
    public void WriteErrorLog(Span<byte> log)
    {
        log.Clear();
        lock (_sync)
        {
            for (var i = 0; i < ErrorLogEntries && (ulong)i < _errorCount; i++)
            {
                var e = _errors[(int)((_errorCount - (ulong)i) % ErrorLogEntries)];
                var entry = log.Slice(i * ErrorLogEntryLayout.Size, ErrorLogEntryLayout.Size);
                BinaryPrimitives.WriteUInt64LittleEndian(entry[ErrorLogEntryLayout.ErrorCount..], e.Count);
                BinaryPrimitives.WriteUInt16LittleEndian(entry[ErrorLogEntryLayout.Sqid..], e.Sqid);
                BinaryPrimitives.WriteUInt16LittleEndian(entry[ErrorLogEntryLayout.Cid..], e.Cid);
                BinaryPrimitives.WriteUInt16LittleEndian(entry[ErrorLogEntryLayout.Status..], e.Status);
                entry[ErrorLogEntryLayout.Trtype] = DiscoveryLogEntryLayout.TransportTcp;
            }
        }
    }

    /// <summary>Counts a read or write for the SMART log.</summary>
    public void CountIo(bool write, long bytes)
    {
        if (write)
        {
            Interlocked.Increment(ref _writeCommands);
            Interlocked.Add(ref _blocksWritten512, bytes / SmartLogLayout.DataUnitBlockSize);
        }
        else
        {
            Interlocked.Increment(ref _readCommands);
            Interlocked.Add(ref _blocksRead512, bytes / SmartLogLayout.DataUnitBlockSize);
        }
    }

    /// <summary>
    /// Log 0x02, SMART / Health Information (<see cref="SmartLogLayout"/>): composite temperature 300 K, available
    /// spare 100%, threshold 10%, data units read and written, read and write commands, error log entries.
    /// </summary>
    public void WriteSmartLog(Span<byte> log)
    {
        log.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(log[SmartLogLayout.CompositeTemperature..], 300);
        log[SmartLogLayout.AvailableSpare] = 100;
        log[SmartLogLayout.AvailableSpareThreshold] = 10;
        BinaryPrimitives.WriteUInt64LittleEndian(log[SmartLogLayout.DataUnitsRead..], SmartLogLayout.DataUnits((ulong)Interlocked.Read(ref _blocksRead512)));
        BinaryPrimitives.WriteUInt64LittleEndian(log[SmartLogLayout.DataUnitsWritten..], SmartLogLayout.DataUnits((ulong)Interlocked.Read(ref _blocksWritten512)));
        BinaryPrimitives.WriteUInt64LittleEndian(log[SmartLogLayout.HostReadCommands..], (ulong)Interlocked.Read(ref _readCommands));
        BinaryPrimitives.WriteUInt64LittleEndian(log[SmartLogLayout.HostWriteCommands..], (ulong)Interlocked.Read(ref _writeCommands));
        lock (_sync)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(log[SmartLogLayout.ErrorLogEntries..], _errorCount);
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
