using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Fabrics;
using NvmeTcp.Protocol.Spec;
using NvmeTcp.Protocol;
using NvmeTcp.Client.Transport;

namespace NvmeTcp.Client;

public sealed partial class NvmeController
{
    // The admin queue: 32 entries and 8 KiB of in-capsule data, as Linux uses (NVME_AQ_DEPTH, NVME_TCP_ADMIN_CCSZ).
    private const int AdminQueueSize = 32;
    private const int AdminInCapsuleDataSize = 8192;

    // CC fields (NVMe Base 2.0, 3.1.4.5): IOSQES 6 (64-byte SQE), IOCQES 4 (16-byte CQE), MPS 0 (4 KiB pages).
    private const uint CcEnable = 1;
    private const uint CcQueueEntrySizes = (6u << 16) | (4u << 20);
    private const uint CcShutdownNormal = 1u << 14;
    private const uint CcCssAllSupported = 6u << 4;
    private const uint CstsReady = 1;
    private const uint CstsFatal = 1 << 1;
    private const uint CstsShutdownComplete = 2 << 2;

    private static QueueConnectionOptions AdminQueueOptions(NvmeTcpOptions options) => new()
    {
        QueueId = 0,
        QueueSize = AdminQueueSize,
        HeaderDigest = options.HeaderDigest,
        DataDigest = options.DataDigest,
        MaxTransferSize = Math.Max(options.MaxTransferSize, 64 * 1024),
        InCapsuleDataSize = AdminInCapsuleDataSize,
        ConnectTimeout = options.ConnectTimeout,
        CommandTimeout = options.AdminTimeout,
        Resources = options.Resources ?? new ResourceCounters(),
    };

    private static async Task<EndPoint> ResolveAsync(NvmeTcpOptions options, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(options.Address, out var address))
        {
            return new IPEndPoint(address, options.Port);
        }

        try
        {
            var addresses = await Dns.GetHostAddressesAsync(options.Address, cancellationToken).ConfigureAwait(false);
            return new IPEndPoint(addresses[0], options.Port);
        }
        catch (SocketException e)
        {
            throw new NvmeTransportException($"Cannot resolve {options.Address}: {e.Message}", 0, isRetryable: true, e);
        }
    }

    private async Task BringUpAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        // Connect the admin queue: a new dynamic controller (CNTLID 0xFFFF), SQSIZE 31, KATO in ms.
        var kato = (uint)_options.KeepAliveTimeout.TotalMilliseconds;
        ControllerId = await ConnectQueueAsync(_admin, 0xFFFF, kato, cancellationToken).ConfigureAwait(false);

        Capabilities = await GetPropertyAsync(ControllerProperty.Cap, cancellationToken).ConfigureAwait(false);
        var vs = (uint)await GetPropertyAsync(ControllerProperty.Vs, cancellationToken).ConfigureAwait(false);
        Version = new Version((int)(vs >> 16), (int)((vs >> 8) & 0xFF), (int)(vs & 0xFF));
        await EnableAsync(cancellationToken).ConfigureAwait(false);

        var identify = new byte[4096];
        await AdminAsync(IdentifyCommand.Controller(), default, identify, cancellationToken).ConfigureAwait(false);
        Identify = NvmeIdentifyController.Parse(identify);

        var mpsMin = 1 << (12 + (int)((Capabilities >> 48) & 0xF));
        var mdts = Identify.MaxDataTransferBytes(mpsMin);
        MaxTransferSize = (int)Math.Min(_options.MaxTransferSize, mdts ?? long.MaxValue);
        if (IsDiscoveryController)
        {
            return;
        }

        await ConnectIoQueuesAsync(endPoint, cancellationToken).ConfigureAwait(false);
        await ReadNamespacesAsync(cancellationToken).ConfigureAwait(false);
        if (_logger.IsEnabled(LogLevel.Information))
        {
            Log.Connected(_logger, _options.SubsystemNqn, endPoint, ControllerId, _ioConnections.Length, _ioConnections.Length > 0 ? _ioConnections[0].QueueSize : 0, _admin.Codec.HeaderDigest, _admin.Codec.DataDigest);
        }
    }

    private async Task<ushort> ConnectQueueAsync(QueueConnection queue, ushort controllerId, uint kato, CancellationToken cancellationToken)
    {
        var data = new byte[ConnectData.Size];
        ConnectData.Write(data, _options.HostId, controllerId, _options.SubsystemNqn, _options.HostNqn);
        var sqe = ConnectCommand.Create(queue.QueueId, queue.QueueSize, ConnectAttributes.None, queue.QueueId == 0 ? kato : 0);
        var cqe = await queue.SubmitAsync(sqe, CommandKind.Fabrics, data, default, cancellationToken).ConfigureAwait(false);

        // DW0: CNTLID in bits 0-15, AUTHREQ in bits 16-31 (bit 17 DH-HMAC-CHAP, bit 18 secure channel).
        if ((cqe.Dw0 >> 16 & 0x6) != 0)
        {
            // Not retryable: reconnecting would meet the same demand (no reconnect after an authentication refusal).
            throw new NvmeTransportException($"The controller at {queue.RemoteEndPoint} requires in-band authentication (AUTHREQ 0x{cqe.Dw0 >> 16:X}), which this connection was not configured for.", queue.QueueId, isRetryable: false);
        }

        if (_logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Debug))
        {
            Log.QueueConnected(_logger, queue.QueueId, queue.RemoteEndPoint);
        }
        return (ushort)cqe.Dw0;
    }

    private async Task EnableAsync(CancellationToken cancellationToken)
    {
        // A static controller may come up enabled: disable it first and wait for RDY to clear (as Linux does).
        var cc = (uint)await GetPropertyAsync(ControllerProperty.Cc, cancellationToken).ConfigureAwait(false);
        if ((cc & CcEnable) != 0)
        {
            await SetPropertyAsync(ControllerProperty.Cc, cc & ~CcEnable, cancellationToken).ConfigureAwait(false);
            await WaitForStatusAsync(CstsReady, 0, "CSTS.RDY to clear", cancellationToken).ConfigureAwait(false);
        }

        // CSS 110b (all supported I/O command sets) when CAP.CSS bit 43 says so, else NVM (000b).
        var css = (Capabilities & (1UL << 43)) != 0 ? CcCssAllSupported : 0;
        await SetPropertyAsync(ControllerProperty.Cc, CcEnable | CcQueueEntrySizes | css, cancellationToken).ConfigureAwait(false);
        await WaitForStatusAsync(CstsReady, CstsReady, "CSTS.RDY", cancellationToken).ConfigureAwait(false);
    }

    // Polls CSTS until (CSTS & mask) == value, within CAP.TO (500 ms units); CSTS.CFS is fatal.
    private async Task WaitForStatusAsync(uint mask, uint value, string what, CancellationToken cancellationToken)
    {
        var timeout = TimeSpan.FromMilliseconds(Math.Max(1, (Capabilities >> 24) & 0xFF) * 500);
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        var delay = 1;
        while (true)
        {
            var csts = (uint)await GetPropertyAsync(ControllerProperty.Csts, cancellationToken).ConfigureAwait(false);
            if ((csts & CstsFatal) != 0)
            {
                throw new NvmeException($"Controller {ControllerId} at {_admin.RemoteEndPoint} reports a fatal status (CSTS.CFS) while waiting for {what}.");
            }

            if ((csts & mask) == value)
            {
                return;
            }

            if (Environment.TickCount64 > deadline)
            {
                throw new NvmeTimeoutException($"Controller {ControllerId} at {_admin.RemoteEndPoint}: no {what} within CAP.TO ({timeout.TotalSeconds:0.#} s).", 0, timeout);
            }

            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = Math.Min(delay * 2, 100);
        }
    }

    private async Task ConnectIoQueuesAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        var requested = _options.IoQueueCount;
        if (requested == 0)
        {
            return;
        }

        // Number of Queues (FID 07h): ask for NSQR = NCQR = n - 1, use what was granted (both 0's based in DW0).
        var cqe = await AdminAsync(FeatureCommands.SetNumberOfQueues(requested, requested), default, default, cancellationToken).ConfigureAwait(false);
        var granted = Math.Min(requested, (int)Math.Min((cqe.Dw0 & 0xFFFF) + 1, (cqe.Dw0 >> 16) + 1));
        Log.QueuesGranted(_logger, requested, granted);

        var mqes = (int)(Capabilities & 0xFFFF) + 1;
        var size = Math.Min(_options.IoQueueSize, mqes);
        var inCapsule = (int)Math.Clamp(Identify.InCapsuleDataSize, 0, int.MaxValue);
        var connections = new List<QueueConnection>(granted);
        try
        {
            for (ushort qid = 1; qid <= granted; qid++)
            {
                var connection = await QueueConnection.ConnectAsync(endPoint, IoQueueOptions(qid, size, inCapsule), cancellationToken).ConfigureAwait(false);
                connections.Add(connection);
                await ConnectQueueAsync(connection, ControllerId, 0, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }

        _ioConnections = [.. connections];

        // As many queue pairs as asked for, whatever was granted: pair i uses connection i mod granted (as blk-mq
        // maps hardware contexts). After a reconnect the pairs the caller holds stay valid and follow the new grant,
        // fewer queues (pairs share) or more, up to one connection each.
        if (_ioQueues.Length == 0)
        {
            _ioQueues = [.. Enumerable.Range(0, requested).Select(i => new NvmeQueuePair(this, connections[i % connections.Count], MaxTransferSize))];
        }
        else
        {
            for (var i = 0; i < _ioQueues.Length; i++)
            {
                _ioQueues[i].Rebind(connections[i % connections.Count]);
            }
        }
    }

    private QueueConnectionOptions IoQueueOptions(ushort qid, int size, int inCapsule) => new()
    {
        QueueId = qid,
        QueueSize = size,
        HeaderDigest = _options.HeaderDigest,
        DataDigest = _options.DataDigest,
        MaxR2T = (uint)_options.MaxR2T,
        MaxTransferSize = MaxTransferSize,
        InCapsuleDataSize = inCapsule,
        ConnectTimeout = _options.ConnectTimeout,
        CommandTimeout = _options.IoTimeout,
        Resources = Resources,
    };

    private async Task ReadNamespacesAsync(CancellationToken cancellationToken)
    {
        var namespaces = new List<NvmeNamespace>();
        var list = new byte[4096];
        uint after = 0;
        while (true)
        {
            // Active Namespace ID list (CNS 02h): up to 1024 NSIDs greater than the one given.
            await AdminAsync(IdentifyCommand.ActiveNamespaces(after), default, list, cancellationToken).ConfigureAwait(false);
            var ids = NvmeNamespaceList.Parse(list);
            foreach (var id in ids)
            {
                namespaces.Add(await ReadNamespaceAsync(id, cancellationToken).ConfigureAwait(false));
            }

            if (ids.Count < 1024)
            {
                break;
            }

            after = ids[^1];
        }

        _namespaces = [.. namespaces];
    }

    private async Task<NvmeNamespace> ReadNamespaceAsync(uint id, CancellationToken cancellationToken)
    {
        var data = new byte[4096];
        await AdminAsync(IdentifyCommand.Namespace(id), default, data, cancellationToken).ConfigureAwait(false);
        var identify = NvmeIdentifyNamespace.Parse(data);
        IReadOnlyList<NvmeNamespaceDescriptor> descriptors = [];
        var descriptorData = new byte[4096];
        try
        {
            await AdminAsync(IdentifyCommand.NamespaceDescriptors(id), default, descriptorData, cancellationToken).ConfigureAwait(false);
            descriptors = NvmeNamespaceDescriptor.ParseList(descriptorData);
        }
        catch (NvmeStatusException)
        {
            // CNS 03h is optional before NVMe 1.3: a namespace without descriptors is still usable.
        }

        return new NvmeNamespace(id, identify, descriptors);
    }

    private async Task<string> ShutdownAsync()
    {
        // CC.SHN = 01b keeping EN, then CSTS.SHST = 10b within RTD3E (µs) or, when it is 0, CAP.TO.
        try
        {
            using var timeout = new CancellationTokenSource(ShutdownTimeout());
            var cc = (uint)await GetPropertyAsync(ControllerProperty.Cc, timeout.Token).ConfigureAwait(false);
            await SetPropertyAsync(ControllerProperty.Cc, (cc & ~(3u << 14)) | CcShutdownNormal, timeout.Token).ConfigureAwait(false);
            while (true)
            {
                var csts = (uint)await GetPropertyAsync(ControllerProperty.Csts, timeout.Token).ConfigureAwait(false);
                if ((csts & (3 << 2)) == CstsShutdownComplete)
                {
                    return "orderly shutdown complete";
                }

                await Task.Delay(10, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is NvmeException or OperationCanceledException)
        {
            return $"shutdown not confirmed: {e.Message}";
        }
    }

    private TimeSpan ShutdownTimeout()
    {
        var rtd3e = Identify?.Rtd3e ?? 0;
        return rtd3e != 0 ? TimeSpan.FromMilliseconds(Math.Clamp(rtd3e / 1000.0, 1000, 60_000)) : TimeSpan.FromMilliseconds(Math.Max(1, (Capabilities >> 24) & 0xFF) * 500);
    }

    private Task StartKeepAlive(uint katoMs, QueueConnection admin, IReadOnlyList<QueueConnection> association, CancellationToken token)
    {
        if (katoMs == 0)
        {
            return Task.CompletedTask;
        }

        // Keep Alive every KATO/2, as Linux does. With Traffic Based Keep Alive (CTRATT bit 6) any completion resets
        // the controller's timer, so a tick that saw completions sends nothing; the ticks come twice as often, since
        // one completion can then postpone the next Keep Alive by up to two of them (Linux's reasoning, core.c).
        var trafficBased = (Identify.Ctratt & (1u << 6)) != 0;
        var period = TimeSpan.FromMilliseconds(katoMs / (trafficBased ? 4.0 : 2.0));
        return Background(
            async () =>
            {
                using var timer = new PeriodicTimer(period);
                var seen = TotalCompletions(association);
                while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false))
                {
                    var now = TotalCompletions(association);
                    if (trafficBased && now != seen)
                    {
                        seen = now;
                        continue;
                    }

                    try
                    {
                        // As Linux: the Keep Alive itself may take at most KATO; past that the association is reset.
                        await admin.SubmitAsync(AdminCommands.KeepAlive(), CommandKind.Admin, default, default, token, TimeSpan.FromMilliseconds(katoMs)).ConfigureAwait(false);
                        seen = TotalCompletions(association);
                    }
                    catch (NvmeException e)
                    {
                        Log.KeepAliveFailed(_logger, ControllerId, e.Message);
                        admin.Fail(e);
                        return;
                    }
                }
            });
    }

    private static long TotalCompletions(IReadOnlyList<QueueConnection> association)
    {
        var total = 0L;
        foreach (var connection in association)
        {
            total += connection.Completions;
        }

        return total;
    }
}
