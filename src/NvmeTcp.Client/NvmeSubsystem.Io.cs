using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Client;

/// <summary>I/O through the subsystem: the path chosen per command, failover on path errors.</summary>
public sealed partial class NvmeSubsystem
{
    /// <summary>Reads whole logical blocks starting at <paramref name="startLba"/> into <paramref name="buffer"/>, through a usable path.</summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="startLba">SLBA: the first logical block.</param>
    /// <param name="buffer">Where the data goes; its length (a multiple of the block size) sets the number of blocks.</param>
    /// <param name="cancellationToken">Cancels the read, also while it waits for a path.</param>
    /// <returns>Completes when the data is in <paramref name="buffer"/>.</returns>
    public ValueTask ReadAsync(NvmeSubsystemNamespace ns, ulong startLba, Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ExecuteAsync(new IoRequest(Operation.Read, ns, startLba, buffer, default, false, 0, null), cancellationToken);

    /// <summary>Writes whole logical blocks from <paramref name="data"/> starting at <paramref name="startLba"/>, through a usable path.</summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="startLba">SLBA: the first logical block.</param>
    /// <param name="data">The data; its length, a multiple of the block size, sets the number of blocks.</param>
    /// <param name="forceUnitAccess">FUA: complete only once the data is in non-volatile media.</param>
    /// <param name="cancellationToken">Cancels the write, also while it waits for a path.</param>
    /// <returns>Completes when a controller has acknowledged the write.</returns>
    /// <remarks>After a failover the write may have reached the media twice; see the class remarks.</remarks>
    public ValueTask WriteAsync(NvmeSubsystemNamespace ns, ulong startLba, ReadOnlyMemory<byte> data, bool forceUnitAccess = false, CancellationToken cancellationToken = default) =>
        ExecuteAsync(new IoRequest(Operation.Write, ns, startLba, default, data, forceUnitAccess, 0, null), cancellationToken);

    /// <summary>Compares whole logical blocks with <paramref name="data"/> (NVM Compare), through a usable path.</summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="startLba">SLBA: the first logical block.</param>
    /// <param name="data">The expected data.</param>
    /// <param name="cancellationToken">Cancels the compare.</param>
    /// <returns>Completes when the blocks matched; a mismatch fails with Compare Failure.</returns>
    public ValueTask CompareAsync(NvmeSubsystemNamespace ns, ulong startLba, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        ExecuteAsync(new IoRequest(Operation.Compare, ns, startLba, default, data, false, 0, null), cancellationToken);

    /// <summary>Flush: commits the volatile write cache, through a usable path.</summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="cancellationToken">Cancels the flush.</param>
    /// <returns>Completes when the controller has flushed.</returns>
    public ValueTask FlushAsync(NvmeSubsystemNamespace ns, CancellationToken cancellationToken = default) =>
        ExecuteAsync(new IoRequest(Operation.Flush, ns, 0, default, default, false, 0, null), cancellationToken);

    /// <summary>Write Zeroes over <paramref name="blockCount"/> blocks from <paramref name="startLba"/>, through a usable path.</summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="startLba">SLBA.</param>
    /// <param name="blockCount">Blocks to zero.</param>
    /// <param name="deallocate">DEAC: the controller may deallocate them.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>Completes when the blocks read as zero.</returns>
    public ValueTask WriteZeroesAsync(NvmeSubsystemNamespace ns, ulong startLba, long blockCount, bool deallocate = false, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockCount, 1);
        return ExecuteAsync(new IoRequest(Operation.WriteZeroes, ns, startLba, default, default, deallocate, blockCount, null), cancellationToken);
    }

    /// <summary>Dataset Management with the Deallocate attribute (discard) over <paramref name="ranges"/>, through a usable path.</summary>
    /// <param name="ns">The namespace.</param>
    /// <param name="ranges">1 to 256 ranges.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>Completes when the controller has accepted the ranges.</returns>
    public ValueTask DeallocateAsync(NvmeSubsystemNamespace ns, IReadOnlyList<(ulong StartLba, uint BlockCount)> ranges, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        return ExecuteAsync(new IoRequest(Operation.Deallocate, ns, 0, default, default, false, 0, ranges), cancellationToken);
    }

    private enum Operation
    {
        Read,
        Write,
        Compare,
        Flush,
        WriteZeroes,
        Deallocate,
    }

    private readonly record struct IoRequest(
        Operation Operation,
        NvmeSubsystemNamespace Namespace,
        ulong StartLba,
        Memory<byte> ReadBuffer,
        ReadOnlyMemory<byte> WriteData,
        bool Flag,
        long BlockCount,
        IReadOnlyList<(ulong StartLba, uint BlockCount)>? Ranges);

    // One I/O: pick a path, send, and on a path error pick another. Its state machine is pooled: no allocation per
    // I/O in steady state.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ExecuteAsync(IoRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request.Namespace);
        var ns = request.Namespace;

        // Paths this I/O failed on since the paths last changed (a bit per path): skipped until the next change, so a
        // command never bounces between two dead paths.
        ulong failedOn = 0;
        var attempts = 0;
        long waitStarted = 0;
        Exception? last = null;
        while (true)
        {
            var changed = Volatile.Read(ref _changed).Task;
            var route = Select(ns, failedOn);
            if (route is null && failedOn != 0 && Array.Exists(ns.Routes, r => r.IsUsable))
            {
                // Every usable path failed this I/O and still looks usable: give the paths a moment to show the failure
                // (a failed connection takes its controller out of Live at once); if nothing changes, the error stands.
                if (!await ChangedWithinAsync(changed, SettleTime, cancellationToken).ConfigureAwait(false))
                {
                    ExceptionDispatchInfo.Throw(last!);
                }

                failedOn = 0;
                continue;
            }

            if (route is null)
            {
                if (waitStarted == 0)
                {
                    waitStarted = _time.GetTimestamp();
                }

                await WaitForPathAsync(ns, changed, waitStarted, last, cancellationToken).ConfigureAwait(false);
                failedOn = 0;
                continue;
            }

            attempts++;
            var path = route.Path;
            path.Started();
            var success = false;
            try
            {
                await SendAsync(request, route, cancellationToken).ConfigureAwait(false);
                success = true;
                return;
            }
            catch (Exception e) when (IsPathError(e, path, cancellationToken, out var implied) && attempts < _options.MaxAttempts)
            {
                last = e;
                failedOn |= path.Bit;
                if (_logger.IsEnabled(LogLevel.Debug))
                {
                    Log.Failover(_logger, SubsystemNqn, ns.Id, path.Name, e.Message);
                }

                if (e is NvmeStatusException)
                {
                    OnAnaStatus(route, implied);
                }
            }
            finally
            {
                path.Finished(success);
            }
        }
    }

    private static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(1);

    private async Task<bool> ChangedWithinAsync(Task changed, TimeSpan time, CancellationToken cancellationToken)
    {
        try
        {
            await changed.WaitAsync(time, _time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static ValueTask SendAsync(in IoRequest request, Route route, CancellationToken cancellationToken)
    {
        var queue = route.Path.Controller.NextIoQueue();
        var ns = route.Namespace;
        return request.Operation switch
        {
            Operation.Read => queue.ReadAsync(ns, request.StartLba, request.ReadBuffer, cancellationToken),
            Operation.Write => queue.WriteAsync(ns, request.StartLba, request.WriteData, request.Flag, cancellationToken),
            Operation.Compare => queue.CompareAsync(ns, request.StartLba, request.WriteData, cancellationToken),
            Operation.Flush => queue.FlushAsync(ns, cancellationToken),
            Operation.WriteZeroes => queue.WriteZeroesAsync(ns, request.StartLba, request.BlockCount, request.Flag, cancellationToken),
            _ => queue.DeallocateAsync(ns, request.Ranges!, cancellationToken),
        };
    }

    // The policy's pick among usable routes not failed on: optimized ones first, non-optimized only when no optimized
    // route is usable (Linux's __nvme_find_path and nvme_round_robin_path do the same).
    private Route? Select(NvmeSubsystemNamespace ns, ulong failedOn)
    {
        var routes = ns.Routes;
        if (routes.Length == 0)
        {
            return null;
        }

        var policy = IoPolicy;
        var start = policy == NvmeIoPolicy.RoundRobin ? ns.NextTurn() % routes.Length : 0;
        Route? best = null;
        var bestOptimized = false;
        var bestDepth = long.MaxValue;
        for (var n = 0; n < routes.Length; n++)
        {
            var i = (start + n) % routes.Length;
            var route = routes[i];
            if ((failedOn & route.Path.Bit) != 0 || !route.IsUsable)
            {
                continue;
            }

            var optimized = route.IsOptimized;
            if (policy == NvmeIoPolicy.QueueDepth)
            {
                var depth = route.Path.InFlight;
                if ((optimized && !bestOptimized) || (optimized == bestOptimized && depth < bestDepth))
                {
                    (best, bestOptimized, bestDepth) = (route, optimized, depth);
                }

                continue;
            }

            if (optimized)
            {
                return route;
            }

            best ??= route;
        }

        return best;
    }

    // No usable path: wait for the paths to change, up to the no-path timeout counted from the first wait; fail at once
    // when no path can come back (every controller deleted or removed).
    private async Task WaitForPathAsync(NvmeSubsystemNamespace ns, Task changed, long waitStarted, Exception? last, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var routes = ns.Routes;
        if (!Array.Exists(routes, r => !r.Path.IsRemoved && r.Path.State is not (NvmeControllerState.Deleting or NvmeControllerState.Deleted)))
        {
            throw new NvmeNoPathException($"No path to namespace {ns.Id} of {SubsystemNqn} can come back: every path's controller is deleted or removed.", last);
        }

        var timeout = _options.EffectiveNoPathTimeout;
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        var remaining = timeout - _time.GetElapsedTime(waitStarted);
        if (remaining <= TimeSpan.Zero)
        {
            throw NoPath(ns, timeout, last);
        }

        try
        {
            await changed.WaitAsync(remaining, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw NoPath(ns, timeout, last);
        }
    }

    private NvmeNoPathException NoPath(NvmeSubsystemNamespace ns, TimeSpan timeout, Exception? last) =>
        new($"No usable path to namespace {ns.Id} of {SubsystemNqn} for {timeout.TotalSeconds:0.#} s (paths: {string.Join(", ", ns.Routes.Select(r => $"{r.Path.Name} {r.Path.State} {r.State}"))}).", last);

    // Errors that say "this path, not this command": a path-related status without DNR (SCT 3; ANA ones name the state
    // to assume), or the path's connection or controller failing under the command. Everything else is the command's.
    private static bool IsPathError(Exception e, NvmePath path, CancellationToken cancellationToken, out AnaState implied)
    {
        implied = AnaState.None;
        switch (e)
        {
            case OperationCanceledException when cancellationToken.IsCancellationRequested:
                return false;
            case NvmeStatusException status:
                if (status.Status.DoNotRetry || status.Status.CodeType != NvmeStatusCodeType.PathRelated)
                {
                    return false;
                }

                implied = status.Status.Is(StatusCodes.AnaInaccessible) ? AnaState.Inaccessible
                    : status.Status.Is(StatusCodes.AnaPersistentLoss) ? AnaState.PersistentLoss
                    : status.Status.Is(StatusCodes.AnaTransition) ? AnaState.Change
                    : AnaState.None;
                return true;
            case NvmeAuthenticationException:
                return false;
            case NvmeException:
                // Transport loss, timeout, protocol violation, controller fatal or deleted: the path failed.
                return true;
            case ObjectDisposedException or InvalidOperationException when path.IsRemoved:
                return true;
            default:
                return false;
        }
    }
}
