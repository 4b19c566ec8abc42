using System.Runtime.CompilerServices;
using NvmeTcp.Protocol.Nvm;
using NvmeTcp.Protocol;
using NvmeTcp.Client.Transport;
using NvmeTcp.Client.Diagnostics;
using System.Diagnostics;

namespace NvmeTcp.Client;

/// <summary>
/// An I/O submission/completion queue pair: it sends over one TCP connection to the controller, which it shares with
/// other pairs when the controller granted fewer I/O queues than were asked for (see
/// <see cref="NvmeController.IoQueues"/>). Many callers may use one queue pair at once; when all its slots are busy,
/// callers wait for one (back-pressure), they do not fail.
/// </summary>
/// <remarks>
/// <para>Buffers are the caller's: a read's data goes straight into it, a write's data is sent from it. Do not touch a
/// buffer until its operation has completed.</para>
/// <para>Transfers larger than <see cref="MaxTransferSize"/> (the controller's MDTS, or the configured maximum) are split
/// into several commands, which run concurrently on this queue.</para>
/// <para>Failures: <see cref="NvmeStatusException"/> for a non-zero status (the queue stays up);
/// <see cref="NvmeTransportException"/> when the connection was lost or a data digest did not match (retryable);
/// <see cref="NvmeTcpProtocolException"/> when the controller broke the protocol; <see cref="NvmeTimeoutException"/>.
/// Cancellation before the command is sent withdraws it; after, the command is abandoned: the caller is released with
/// <see cref="OperationCanceledException"/> as soon as the library no longer uses its buffer, but the controller may
/// still complete it.</para>
/// <para>Completions: a caller's continuation never runs on the connection's receive loop. The completions one socket read
/// brings run one after the other on a thread pool thread, and the commands they submit leave together in one socket
/// write. Blocking in a continuation (waiting synchronously for another command) delays the others of its batch and
/// costs up to a timeout-timer tick (a tenth of the I/O timeout, at most 1 s) before the library works around it.</para>
/// </remarks>
public sealed class NvmeQueuePair
{
    private readonly NvmeController _controller;
    private readonly int _index;

    internal NvmeQueuePair(NvmeController controller, int index)
    {
        _controller = controller;
        _index = index;
    }

    /// <summary>The queue ID (1 and up) of the connection this pair uses now; pairs sharing a connection have the same one.</summary>
    public ushort QueueId => Connection.QueueId;

    /// <summary>Commands that can be outstanding at once.</summary>
    public int QueueSize => Connection.QueueSize;

    /// <summary>The largest transfer sent as one command, as the current association allows (it can change at a reconnect).</summary>
    public int MaxTransferSize => _controller.Current.MaxTransferSize;

    /// <summary>The largest write sent inside the command capsule (IOCCSZ); larger writes go by R2T.</summary>
    public int InCapsuleDataSize => Connection.InCapsuleDataSize;

    // The connection of the current association this pair is mapped to.
    internal QueueConnection Connection => _controller.Current.IoQueueFor(_index);

    // The connection to use now, if it is up; null while the controller recovers (then the caller waits). The limits
    // come from the same association as the connection, so a transfer is never sized for another one.
    private QueueConnection? Live()
    {
        var connection = _controller.Current.IoQueueFor(_index);
        return connection.Failure is null ? connection : null;
    }

    /// <summary>Reads whole logical blocks starting at <paramref name="startLba"/> into <paramref name="buffer"/>, whose length must be a multiple of the block size.</summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="startLba">SLBA: the first logical block.</param>
    /// <param name="buffer">Where the data goes; its length sets the number of blocks.</param>
    /// <param name="cancellationToken">Cancels the read (see remarks on the class).</param>
    /// <returns>Completes when the data is in <paramref name="buffer"/>.</returns>
    public ValueTask ReadAsync(NvmeNamespace ns, ulong startLba, Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Telemetry.IoInstrumented
            ? ObservedAsync(IoOperation.Read, ns, startLba, buffer, default, false, cancellationToken)
            : ReadCoreAsync(ns, startLba, buffer, cancellationToken);

    private ValueTask ReadCoreAsync(NvmeNamespace ns, ulong startLba, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var blocks = BlockCount(ns, buffer.Length);
        if (Live() is { } connection && buffer.Length <= connection.MaxTransferSize)
        {
            return connection.SubmitNoResultAsync(ReadWriteCommands.Read(ns.Id, startLba, blocks, (uint)buffer.Length), CommandKind.Io, default, buffer, cancellationToken);
        }

        return ReadSlowAsync(ns, startLba, buffer, cancellationToken);
    }

    /// <summary>Writes whole logical blocks from <paramref name="data"/> starting at <paramref name="startLba"/>.</summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="startLba">SLBA: the first logical block.</param>
    /// <param name="data">The data; its length, a multiple of the block size, sets the number of blocks.</param>
    /// <param name="forceUnitAccess">FUA: complete only once the data is in non-volatile media.</param>
    /// <param name="cancellationToken">Cancels the write (see remarks on the class).</param>
    /// <returns>Completes when the controller has acknowledged the write.</returns>
    public ValueTask WriteAsync(NvmeNamespace ns, ulong startLba, ReadOnlyMemory<byte> data, bool forceUnitAccess = false, CancellationToken cancellationToken = default) =>
        Telemetry.IoInstrumented
            ? ObservedAsync(IoOperation.Write, ns, startLba, default, data, forceUnitAccess, cancellationToken)
            : WriteCoreAsync(ns, startLba, data, forceUnitAccess, cancellationToken);

    private ValueTask WriteCoreAsync(NvmeNamespace ns, ulong startLba, ReadOnlyMemory<byte> data, bool forceUnitAccess, CancellationToken cancellationToken)
    {
        var blocks = BlockCount(ns, data.Length);
        if (Live() is { } connection && data.Length <= connection.MaxTransferSize)
        {
            return connection.SubmitNoResultAsync(ReadWriteCommands.Write(ns.Id, startLba, blocks, (uint)data.Length, forceUnitAccess), CommandKind.Io, data, default, cancellationToken);
        }

        return WriteSlowAsync(ns, startLba, data, NvmOpcode.Write, forceUnitAccess, cancellationToken);
    }

    /// <summary>Compares <paramref name="data"/> with the blocks at <paramref name="startLba"/>; a mismatch throws <see cref="NvmeStatusException"/> with Compare Failure.</summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="startLba">SLBA.</param>
    /// <param name="data">The expected data; a multiple of the block size.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>Completes when the blocks matched.</returns>
    public ValueTask CompareAsync(NvmeNamespace ns, ulong startLba, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        Telemetry.IoInstrumented
            ? ObservedAsync(IoOperation.Compare, ns, startLba, default, data, false, cancellationToken)
            : CompareCoreAsync(ns, startLba, data, cancellationToken);

    private ValueTask CompareCoreAsync(NvmeNamespace ns, ulong startLba, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var blocks = BlockCount(ns, data.Length);
        if (Live() is { } connection && data.Length <= connection.MaxTransferSize)
        {
            return connection.SubmitNoResultAsync(ReadWriteCommands.Compare(ns.Id, startLba, blocks, (uint)data.Length), CommandKind.Io, data, default, cancellationToken);
        }

        return WriteSlowAsync(ns, startLba, data, NvmOpcode.Compare, false, cancellationToken);
    }

    /// <summary>Flush: commits volatile write cache contents of the namespace to non-volatile media.</summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>Completes when the controller has flushed.</returns>
    public ValueTask FlushAsync(NvmeNamespace ns, CancellationToken cancellationToken = default) =>
        Telemetry.IoInstrumented
            ? ObservedAsync(IoOperation.Flush, ns, 0, default, default, false, cancellationToken)
            : FlushCoreAsync(ns, cancellationToken);

    private ValueTask FlushCoreAsync(NvmeNamespace ns, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ns);
        var sqe = ReadWriteCommands.Flush(ns.Id);
        return Live() is { } connection
            ? connection.SubmitNoResultAsync(sqe, CommandKind.Io, default, default, cancellationToken)
            : SubmitWhenLiveAsync(sqe, default, default, cancellationToken);
    }

    /// <summary>Write Zeroes: sets <paramref name="blockCount"/> blocks from <paramref name="startLba"/> to zero, with no data transfer.</summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="startLba">SLBA.</param>
    /// <param name="blockCount">Number of blocks (split into commands of at most 65536 blocks).</param>
    /// <param name="deallocate">DEAC: the controller may deallocate the blocks.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>Completes when the blocks read as zero.</returns>
    public ValueTask WriteZeroesAsync(NvmeNamespace ns, ulong startLba, long blockCount, bool deallocate = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ns);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockCount, 1);
        return Telemetry.IoInstrumented
            ? ObservedAsync(IoOperation.WriteZeroes, new WriteZeroesRun(ns, startLba, blockCount, deallocate), cancellationToken)
            : WriteZeroesCoreAsync(ns, startLba, blockCount, deallocate, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteZeroesCoreAsync(NvmeNamespace ns, ulong startLba, long blockCount, bool deallocate, CancellationToken cancellationToken)
    {
        while (blockCount > 0)
        {
            var blocks = (int)Math.Min(blockCount, 65536);
            await SubmitAsync(ReadWriteCommands.WriteZeroes(ns.Id, startLba, blocks, deallocate), default, default, cancellationToken).ConfigureAwait(false);
            startLba += (ulong)blocks;
            blockCount -= blocks;
        }
    }

    /// <summary>Dataset Management with the Deallocate attribute (TRIM): the ranges read as deallocated afterwards.</summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="ranges">Up to 256 ranges of (first LBA, block count).</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>Completes when the controller has processed the ranges.</returns>
    public ValueTask DeallocateAsync(NvmeNamespace ns, IReadOnlyList<(ulong StartLba, uint BlockCount)> ranges, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ns);
        ArgumentNullException.ThrowIfNull(ranges);
        if (ranges.Count is 0 or > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(ranges), "Dataset Management takes 1 to 256 ranges.");
        }

        var data = new byte[ranges.Count * 16];
        for (var i = 0; i < ranges.Count; i++)
        {
            DatasetManagementCommand.WriteRange(data, i, ranges[i].StartLba, ranges[i].BlockCount);
        }

        var sqe = DatasetManagementCommand.Create(ns.Id, ranges.Count, DatasetAttributes.Deallocate);
        return Telemetry.IoInstrumented
            ? ObservedAsync(IoOperation.DatasetManagement, new SubmitRun(ns.Id, sqe, data), cancellationToken)
            : SubmitAsync(sqe, data, default, cancellationToken);
    }

    /// <summary>
    /// Sends any I/O command, as nvme-cli's <c>io-passthru</c> does. At most one of <paramref name="writeData"/> and
    /// <paramref name="readBuffer"/> may be non-empty; it is the command's data.
    /// </summary>
    /// <param name="command">The command.</param>
    /// <param name="writeData">Data sent to the controller.</param>
    /// <param name="readBuffer">Where data from the controller goes.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>The completion; a non-zero status throws <see cref="NvmeStatusException"/>.</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<NvmeCompletion> IoPassthruAsync(NvmeCommand command, ReadOnlyMemory<byte> writeData = default, Memory<byte> readBuffer = default, CancellationToken cancellationToken = default)
    {
        if (Live() is null)
        {
            await _controller.WaitUntilLiveAsync(cancellationToken).ConfigureAwait(false);
        }

        var sqe = command.ToSqe();
        Cqe cqe;
        if (!Telemetry.IoInstrumented)
        {
            cqe = await Connection.SubmitAsync(sqe, CommandKind.Io, writeData, readBuffer, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // Instrumented in place (this method is async already): no second state machine, no closure.
            var name = OperationNames[(int)IoOperation.Passthru];
            using var activity = StartIoActivity(IoOperation.Passthru, sqe.Nsid);
            var started = Stopwatch.GetTimestamp();
            try
            {
                cqe = await Connection.SubmitAsync(sqe, CommandKind.Io, writeData, readBuffer, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Completed(name, started, e, activity);
                throw;
            }

            Completed(name, started, null, activity);
        }

        return new NvmeCompletion(cqe.Dw0, cqe.Dw1, cqe.Status);
    }

    /// <summary>Reservation Register: registers, unregisters or replaces this host's reservation key on <paramref name="ns"/>.</summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="action">RREGA.</param>
    /// <param name="currentKey">CRKEY (for unregister and replace).</param>
    /// <param name="newKey">NRKEY (for register and replace).</param>
    /// <param name="ignoreExistingKey">IEKEY: do not check CRKEY.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>Completes when the controller has done it; Reservation Conflict throws <see cref="NvmeStatusException"/>.</returns>
    public async ValueTask RegisterReservationKeyAsync(NvmeNamespace ns, ReservationRegisterAction action, ulong currentKey, ulong newKey, bool ignoreExistingKey = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ns);
        var data = new byte[ReservationCommands.KeyPairSize];
        ReservationCommands.WriteKeys(data, currentKey, newKey);
        await SubmitAsync(ReservationCommands.Register(ns.Id, action, ignoreExistingKey), data, default, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reservation Acquire: acquires (or preempts) a reservation of <paramref name="type"/> on <paramref name="ns"/>.</summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="action">RACQA.</param>
    /// <param name="type">RTYPE.</param>
    /// <param name="currentKey">CRKEY: this host's registered key.</param>
    /// <param name="preemptKey">PRKEY: the key of the registrants to preempt.</param>
    /// <param name="ignoreExistingKey">IEKEY.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>Completes when the controller has done it.</returns>
    public async ValueTask AcquireReservationAsync(NvmeNamespace ns, ReservationAcquireAction action, ReservationType type, ulong currentKey, ulong preemptKey = 0, bool ignoreExistingKey = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ns);
        var data = new byte[ReservationCommands.KeyPairSize];
        ReservationCommands.WriteKeys(data, currentKey, preemptKey);
        await SubmitAsync(ReservationCommands.Acquire(ns.Id, action, type, ignoreExistingKey), data, default, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reservation Release: releases the reservation this host holds, or clears every registration.</summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="action">RRELA.</param>
    /// <param name="type">RTYPE of the reservation held.</param>
    /// <param name="currentKey">CRKEY.</param>
    /// <param name="ignoreExistingKey">IEKEY.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>Completes when the controller has done it.</returns>
    public async ValueTask ReleaseReservationAsync(NvmeNamespace ns, ReservationReleaseAction action, ReservationType type, ulong currentKey, bool ignoreExistingKey = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ns);
        var data = new byte[ReservationCommands.KeySize];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(data, currentKey);
        await SubmitAsync(ReservationCommands.Release(ns.Id, action, type, ignoreExistingKey), data, default, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reservation Report (extended data: 128-bit host IDs): the registrants and the reservation of <paramref name="ns"/>.</summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>The report; read again, larger, when the first 4 KiB did not hold every registrant.</returns>
    public async ValueTask<ReservationReport> GetReservationReportAsync(NvmeNamespace ns, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ns);
        var length = 4096;
        for (var attempt = 0; ; attempt++)
        {
            var data = new byte[length];
            await SubmitAsync(ReservationCommands.Report(ns.Id, length, extended: true), default, data, cancellationToken).ConfigureAwait(false);
            var report = ReservationReport.Parse(data, extended: true);
            var needed = ReservationReportLayout.ExtendedHeaderSize + (report.RegisteredControllers * ReservationReportLayout.ExtendedEntrySize);
            if (report.Registrants.Count == report.RegisteredControllers || attempt > 0 || needed > MaxTransferSize)
            {
                return report;
            }

            length = (needed + 3) / 4 * 4;
        }
    }

    private enum IoOperation
    {
        Read,
        Write,
        Compare,
        Flush,
        WriteZeroes,
        DatasetManagement,
        Passthru,
    }

    private static readonly string[] OperationNames = ["read", "write", "compare", "flush", "write_zeroes", "dsm", "io_passthru"];

    // The instrumented path of the hot commands: an activity when a listener samples it, the duration, the bytes and
    // the error kind. Only taken while something listens (Telemetry.IoInstrumented); its state machine is pooled.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ObservedAsync(IoOperation operation, NvmeNamespace ns, ulong startLba, Memory<byte> readBuffer, ReadOnlyMemory<byte> writeData, bool forceUnitAccess, CancellationToken cancellationToken)
    {
        var name = OperationNames[(int)operation];
        using var activity = Telemetry.Source.HasListeners() ? Telemetry.Source.StartActivity(ActivityNames[(int)operation], ActivityKind.Client) : null;
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("nvme.namespace.id", ns.Id);
            activity.SetTag("nvme.lba", startLba);
            activity.SetTag("nvme.io.size", Math.Max(readBuffer.Length, writeData.Length));
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            switch (operation)
            {
                case IoOperation.Read:
                    await ReadCoreAsync(ns, startLba, readBuffer, cancellationToken).ConfigureAwait(false);
                    break;
                case IoOperation.Write:
                    await WriteCoreAsync(ns, startLba, writeData, forceUnitAccess, cancellationToken).ConfigureAwait(false);
                    break;
                case IoOperation.Compare:
                    await CompareCoreAsync(ns, startLba, writeData, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    await FlushCoreAsync(ns, cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception e)
        {
            Completed(name, started, e, activity);
            throw;
        }

        Completed(name, started, null, activity);
        if (operation is IoOperation.Read or IoOperation.Write && Telemetry.IoSize.Enabled)
        {
            Telemetry.IoSize.Add(
                Math.Max(readBuffer.Length, writeData.Length),
                new KeyValuePair<string, object?>("nvme.io.direction", operation == IoOperation.Read ? "read" : "write"),
                new KeyValuePair<string, object?>("server.address", _controller.ServerAddressTag),
                new KeyValuePair<string, object?>("server.port", _controller.ServerPortTag));
        }
    }

    // The instrumented path of write-zeroes and dsm (io-passthru instruments itself in place). The command is a struct the method is generic over, so that no
    // closure or delegate is allocated per I/O (as the read/write path passes its arguments), and the state machine is
    // pooled; only the activity and its tags allocate, when a listener samples it.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ObservedAsync<TCommand>(IoOperation operation, TCommand command, CancellationToken cancellationToken)
        where TCommand : struct, IObservedCommand
    {
        var name = OperationNames[(int)operation];
        using var activity = StartIoActivity(operation, command.NamespaceId);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await command.RunAsync(this, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Completed(name, started, e, activity);
            throw;
        }

        Completed(name, started, null, activity);
    }

    private static Activity? StartIoActivity(IoOperation operation, uint namespaceId)
    {
        var activity = Telemetry.Source.HasListeners() ? Telemetry.Source.StartActivity(ActivityNames[(int)operation], ActivityKind.Client) : null;
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("nvme.namespace.id", namespaceId);
        }

        return activity;
    }

    /// <summary>An I/O command the instrumented path runs, carried by value.</summary>
    private interface IObservedCommand
    {
        public uint NamespaceId { get; }

        public ValueTask RunAsync(NvmeQueuePair queue, CancellationToken cancellationToken);
    }

    private readonly record struct WriteZeroesRun(NvmeNamespace Ns, ulong StartLba, long BlockCount, bool Deallocate) : IObservedCommand
    {
        public uint NamespaceId => Ns.Id;

        public ValueTask RunAsync(NvmeQueuePair queue, CancellationToken cancellationToken) => queue.WriteZeroesCoreAsync(Ns, StartLba, BlockCount, Deallocate, cancellationToken);
    }

    private readonly record struct SubmitRun(uint NamespaceId, Sqe Sqe, ReadOnlyMemory<byte> Data) : IObservedCommand
    {
        public ValueTask RunAsync(NvmeQueuePair queue, CancellationToken cancellationToken) => queue.SubmitAsync(Sqe, Data, default, cancellationToken);
    }

    private static readonly string[] ActivityNames = ["nvme read", "nvme write", "nvme compare", "nvme flush", "nvme write_zeroes", "nvme dsm", "nvme io_passthru"];

    private void Completed(string operation, long started, Exception? error, Activity? activity)
    {
        var queue = Telemetry.QueueTag(QueueId);
        if (Telemetry.OperationDuration.Enabled)
        {
            var tags = new TagList
            {
                { "nvme.operation.name", operation },
                { "nvme.outcome", error is null ? Telemetry.Success : Telemetry.Failure },
                { "nvme.queue.id", queue },
                { "server.address", _controller.ServerAddressTag },
                { "server.port", _controller.ServerPortTag },
            };
            if (error is not null)
            {
                tags.Add("error.type", Telemetry.ErrorType(error));
            }

            Telemetry.OperationDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
        }

        if (error is not null)
        {
            Telemetry.CountError(error, operation);
            Telemetry.Fail(activity, error);
        }
    }

    private ValueTask SubmitAsync(Sqe sqe, ReadOnlyMemory<byte> writeData, Memory<byte> readBuffer, CancellationToken cancellationToken) =>
        Live() is { } connection
            ? connection.SubmitNoResultAsync(sqe, CommandKind.Io, writeData, readBuffer, cancellationToken)
            : SubmitWhenLiveAsync(sqe, writeData, readBuffer, cancellationToken);

    // The slow path while the controller recovers: wait until it is live (or fails per fast_io_fail_tmo), then send.
    private async ValueTask SubmitWhenLiveAsync(Sqe sqe, ReadOnlyMemory<byte> writeData, Memory<byte> readBuffer, CancellationToken cancellationToken)
    {
        await _controller.WaitUntilLiveAsync(cancellationToken).ConfigureAwait(false);
        await Connection.SubmitNoResultAsync(sqe, CommandKind.Io, writeData, readBuffer, cancellationToken).ConfigureAwait(false);
    }

    private static int BlockCount(NvmeNamespace ns, int length)
    {
        ArgumentNullException.ThrowIfNull(ns);
        if (length == 0 || length % ns.BlockSize != 0)
        {
            throw new ArgumentException($"The buffer length ({length}) must be a non-zero multiple of the block size ({ns.BlockSize}).", nameof(length));
        }

        return length / ns.BlockSize;
    }

    // A read while the controller recovers, or one larger than the association's MDTS: wait until live, then send it
    // whole or split by the limit of the association it goes to.
    private async ValueTask ReadSlowAsync(NvmeNamespace ns, ulong startLba, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        await _controller.WaitUntilLiveAsync(cancellationToken).ConfigureAwait(false);
        var connection = Connection;
        if (buffer.Length <= connection.MaxTransferSize)
        {
            await connection.SubmitNoResultAsync(ReadWriteCommands.Read(ns.Id, startLba, buffer.Length / ns.BlockSize, (uint)buffer.Length), CommandKind.Io, default, buffer, cancellationToken).ConfigureAwait(false);
            return;
        }

        await SplitAsync(ns, startLba, buffer, default, NvmOpcode.Read, false, connection.MaxTransferSize, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask WriteSlowAsync(NvmeNamespace ns, ulong startLba, ReadOnlyMemory<byte> data, NvmOpcode opcode, bool forceUnitAccess, CancellationToken cancellationToken)
    {
        await _controller.WaitUntilLiveAsync(cancellationToken).ConfigureAwait(false);
        var connection = Connection;
        if (data.Length <= connection.MaxTransferSize)
        {
            var blocks = data.Length / ns.BlockSize;
            var sqe = opcode == NvmOpcode.Write
                ? ReadWriteCommands.Write(ns.Id, startLba, blocks, (uint)data.Length, forceUnitAccess)
                : ReadWriteCommands.Compare(ns.Id, startLba, blocks, (uint)data.Length);
            await connection.SubmitNoResultAsync(sqe, CommandKind.Io, data, default, cancellationToken).ConfigureAwait(false);
            return;
        }

        await SplitAsync(ns, startLba, default, data, opcode, forceUnitAccess, connection.MaxTransferSize, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask SplitAsync(NvmeNamespace ns, ulong startLba, Memory<byte> readBuffer, ReadOnlyMemory<byte> writeData, NvmOpcode opcode, bool forceUnitAccess, int maxTransferSize, CancellationToken cancellationToken)
    {
        // One command per maxTransferSize bytes (a whole number of blocks), all outstanding at once. Each part checks
        // the limit again, so a reconnect to a smaller MDTS meanwhile splits it further.
        var length = readBuffer.IsEmpty ? writeData.Length : readBuffer.Length;
        var chunk = Math.Max(ns.BlockSize, maxTransferSize / ns.BlockSize * ns.BlockSize);
        var parts = new List<Task>((length + chunk - 1) / chunk);
        for (var offset = 0; offset < length; offset += chunk)
        {
            var size = Math.Min(chunk, length - offset);
            var lba = startLba + (ulong)(offset / ns.BlockSize);
            parts.Add(opcode switch
            {
                NvmOpcode.Read => ReadAsync(ns, lba, readBuffer.Slice(offset, size), cancellationToken).AsTask(),
                NvmOpcode.Write => WriteAsync(ns, lba, writeData.Slice(offset, size), forceUnitAccess, cancellationToken).AsTask(),
                _ => CompareAsync(ns, lba, writeData.Slice(offset, size), cancellationToken).AsTask(),
            });
        }

        Exception? first = null;
        foreach (var part in parts)
        {
            try
            {
                await part.ConfigureAwait(false);
            }
            catch (Exception e) when (first is null)
            {
                first = e;
            }
            catch (Exception)
            {
                // Every part is awaited so that no buffer is still in use when this returns; the first error wins.
            }
        }

        if (first is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        }
    }
}
