using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Auth;
using NvmeTcp.Protocol.Fabrics;
using NvmeTcp.Protocol.Spec;
using NvmeTcp.Protocol.Tls;
using NvmeTcp.Protocol;
using NvmeTcp.Client.Core;
using NvmeTcp.Client.Transport;

namespace NvmeTcp.Client;

public sealed partial class NvmeController
{
    // The admin queue: 32 entries, as Linux uses (NVME_AQ_DEPTH); its in-capsule size is the transport's.
    private const int AdminQueueSize = 32;


    private static QueueConnectionOptions AdminQueueOptions(NvmeTcpOptions options, NvmeTlsPsk? tls) => new()
    {
        QueueId = 0,
        QueueSize = AdminQueueSize,
        HeaderDigest = options.HeaderDigest,
        DataDigest = options.DataDigest,
        MaxTransferSize = Math.Max(options.MaxTransferSize, 64 * 1024),
        InCapsuleDataSize = QueueConnection.AdminInCapsuleDataSize,
        Tls = tls,
        ConnectTimeout = options.ConnectTimeout,
        CommandTimeout = options.AdminTimeout,
        DedicatedReceiveThread = options.DedicatedReceiveThreads,
        TimeProvider = options.TimeProvider,
        Resources = options.Resources ?? new ResourceCounters(),
    };

    // The TLS PSK a queue offers (derived again for every queue and reconnect: a few HMACs); null means plain TCP,
    // which is refused here, before anything is sent, when TLS or the discovery entry's TREQ requires a secure channel.
    private static NvmeTlsPsk? TlsPsk(NvmeTcpOptions options, ushort queueId)
    {
        var psk = options.Tls?.ResolvePsk(options.HostNqn, options.SubsystemNqn);
        if (psk is null && (options.SecureChannelRequired || options.Tls is { Required: true }))
        {
            var why = options.Tls is null
                ? "the discovery log entry requires a secure channel (TREQ) and no TLS is configured (NvmeTcpOptions.Tls)"
                : $"TLS is required and no TLS PSK is configured for host '{options.HostNqn}' and subsystem '{options.SubsystemNqn}' (no Key, and the key lookup has none)";
            throw new NvmeTlsException($"Queue {queueId}: not connecting to {options.Address}:{options.Port} in the clear: {why}.", NvmeTlsFailure.NotConfigured, queueId, null, null);
        }

        return psk;
    }

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

    // Builds a whole association: admin queue, enable, Identify, I/O queues, namespaces. Whatever it opened is closed
    // again when a step fails.
    private static async Task<Association> BringUpAsync(NvmeTcpOptions options, EndPoint endPoint, ILogger logger, CancellationToken cancellationToken)
    {
        using var activity = Diagnostics.Telemetry.Start("nvme bring-up", endPoint, options.SubsystemNqn, System.Diagnostics.ActivityKind.Internal);
        QueueConnection admin;
        NvmeTlsPsk? generated;
        try
        {
            // With concatenation the association's admin queue runs inside TLS with the PSK an exchange in the clear
            // generated just before (on every reconnect too); otherwise with the configured PSK, if any.
            generated = options.Concatenation ? await GenerateTlsPskAsync(endPoint, options, logger, cancellationToken).ConfigureAwait(false) : null;
            admin = await QueueConnection.ConnectAsync(endPoint, AdminQueueOptions(options, generated ?? TlsPsk(options, 0)), cancellationToken).ConfigureAwait(false);
            Diagnostics.Telemetry.Connections.Add(1, new KeyValuePair<string, object?>("nvme.queue.type", "admin"));
        }
        catch (Exception e)
        {
            Diagnostics.Telemetry.Fail(activity, e);
            throw;
        }

        var association = new Association(admin, endPoint) { GeneratedTlsPsk = generated };
        try
        {
            await BringUpAsync(association, options, logger, cancellationToken).ConfigureAwait(false);
            activity?.SetTag("nvme.io_queue.count", association.IoQueues.Length);
            return association;
        }
        catch (Exception e)
        {
            Diagnostics.Telemetry.Fail(activity, e);
            await association.CloseAsync(e).ConfigureAwait(false);
            throw;
        }
    }

    // Secure channel concatenation's first step (Linux nvme_tcp_setup_ctrl with opts->concat): an admin queue in the
    // clear carries only Connect and the DH-HMAC-CHAP exchange that generates the TLS PSK (no Property Get, no
    // Identify: the spec forbids them there), and is then torn down; the association is built on a TLS admin queue.
    private static async Task<NvmeTlsPsk> GenerateTlsPskAsync(EndPoint endPoint, NvmeTcpOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var plain = await QueueConnection.ConnectAsync(endPoint, AdminQueueOptions(options, null), cancellationToken).ConfigureAwait(false);
        await using (plain.ConfigureAwait(false))
        {
            var kato = (uint)options.KeepAliveTimeout.TotalMilliseconds;
            var (_, generated) = await ConnectQueueAsync(plain, options, logger, ConnectData.DynamicControllerId, kato, AuthSecureChannel.NewTlsPsk, cancellationToken).ConfigureAwait(false);
            if (logger.IsEnabled(LogLevel.Debug))
            {
                Log.TlsPskGenerated(logger, generated!.Identity);
            }

            return generated!;
        }
    }

    private static async Task BringUpAsync(Association association, NvmeTcpOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var admin = association.Admin;

        // Connect the admin queue: a new dynamic controller (CNTLID 0xFFFF), SQSIZE 31, KATO in ms.
        var kato = (uint)options.KeepAliveTimeout.TotalMilliseconds;
        // A controller that authenticates the TLS admin queue again (nvmet does not: the PSK authenticates it) is asked
        // to replace the generated PSK, as Linux does with its key set; the I/O queues then use the newer one.
        var secureChannel = association.GeneratedTlsPsk is null ? AuthSecureChannel.None : AuthSecureChannel.ReplaceTlsPsk;
        (association.ControllerId, var replaced) = await ConnectQueueAsync(admin, options, logger, ConnectData.DynamicControllerId, kato, secureChannel, cancellationToken).ConfigureAwait(false);
        association.GeneratedTlsPsk = replaced ?? association.GeneratedTlsPsk;

        association.Capabilities = await GetPropertyAsync(admin, ControllerProperty.Cap, cancellationToken).ConfigureAwait(false);
        association.Version = ControllerVersion.ToVersion((uint)await GetPropertyAsync(admin, ControllerProperty.Vs, cancellationToken).ConfigureAwait(false));
        await EnableAsync(association, options.TimeProvider, cancellationToken).ConfigureAwait(false);

        var identify = new byte[IdentifyControllerLayout.Size];
        await admin.SubmitAsync(IdentifyCommand.Controller(), CommandKind.Admin, default, identify, cancellationToken).ConfigureAwait(false);
        association.Identify = NvmeIdentifyController.Parse(identify);

        var mdts = association.Identify.MaxDataTransferBytes(ControllerCapabilities.MinimumPageSize(association.Capabilities));
        association.MaxTransferSize = (int)Math.Min(options.MaxTransferSize, mdts ?? long.MaxValue);
        if (association.Identify.IsDiscoveryController || options.SubsystemNqn == NvmeTcpOptions.DiscoveryNqn)
        {
            return;
        }

        await ConnectIoQueuesAsync(association, options, logger, cancellationToken).ConfigureAwait(false);
        association.Namespaces = await ReadNamespacesAsync(admin, cancellationToken).ConfigureAwait(false);
        if (association.Identify.ReportsAna)
        {
            association.AnaLog = await ReadAnaLogAsync(admin, association.Identify, groupsOnly: false, cancellationToken).ConfigureAwait(false);
        }

        if (logger.IsEnabled(LogLevel.Information))
        {
            Log.Connected(logger, options.SubsystemNqn, association.EndPoint, association.ControllerId, association.IoQueues.Length, association.IoQueues.Length > 0 ? association.IoQueues[0].QueueSize : 0, admin.Codec.HeaderDigest, admin.Codec.DataDigest);
        }
    }

    // Connect, then DH-HMAC-CHAP when the controller asks for it; with secureChannel (the admin queue of a
    // concatenating bring-up) the exchange asks for a TLS PSK, which is returned.
    private static async Task<(ushort ControllerId, NvmeTlsPsk? GeneratedPsk)> ConnectQueueAsync(QueueConnection queue, NvmeTcpOptions options, ILogger logger, ushort controllerId, uint kato, AuthSecureChannel secureChannel, CancellationToken cancellationToken)
    {
        var data = new byte[ConnectData.Size];
        ConnectData.Write(data, options.HostId, controllerId, options.SubsystemNqn, options.HostNqn);
        var sqe = ConnectCommand.Create(queue.QueueId, queue.QueueSize, ConnectAttributes.None, queue.QueueId == 0 ? kato : 0);
        var cqe = await queue.SubmitAsync(sqe, CommandKind.Fabrics, data, default, cancellationToken).ConfigureAwait(false);

        // DW0: CNTLID in bits 0-15, AUTHREQ in bits 16-31 (bit 17 ATR: DH-HMAC-CHAP, bit 18 ASCR: then a secure channel).
        var requirements = (ushort)(cqe.Dw0 >> 16);
        const ushort atr = 0x2, ascr = 0x4;
        if ((requirements & ascr) != 0 && secureChannel == AuthSecureChannel.None)
        {
            // Not transient: reconnecting would meet the same demand.
            throw new NvmeAuthenticationException(
                $"The controller at {queue.RemoteEndPoint} requires authentication followed by a secure channel (AUTHREQ 0x{requirements:X}) on queue {queue.QueueId}, which this connection was not configured for (NvmeTcpOptions.Concatenation).",
                NvmeAuthenticationFailure.Unsupported, requirements, queue.QueueId, AuthFailureReason.None);
        }

        NvmeTlsPsk? generated = null;
        if (secureChannel == AuthSecureChannel.NewTlsPsk && (requirements & atr) == 0)
        {
            // Nothing to generate the TLS PSK from: Linux would go on without a key and fail at the I/O queues.
            throw new NvmeAuthenticationException(
                $"The controller at {queue.RemoteEndPoint} does not ask for authentication on queue {queue.QueueId} (AUTHREQ 0x{requirements:X}), so secure channel concatenation has no DH-HMAC-CHAP exchange to generate the TLS PSK from.",
                NvmeAuthenticationFailure.Unsupported, requirements, queue.QueueId, AuthFailureReason.None);
        }

        if ((requirements & atr) != 0)
        {
            if (options.DhchapSecret is null)
            {
                throw new NvmeAuthenticationException(
                    $"The controller at {queue.RemoteEndPoint} requires in-band authentication (AUTHREQ 0x{requirements:X}) on queue {queue.QueueId}, which this connection was not configured for.",
                    NvmeAuthenticationFailure.Required, requirements, queue.QueueId, AuthFailureReason.None);
            }

            generated = await AuthenticateQueueAsync(queue, options, logger, requirements, secureChannel, cancellationToken).ConfigureAwait(false);
        }
        else if (options.DhchapControllerSecret is not null && queue.QueueId == 0 && secureChannel == AuthSecureChannel.None)
        {
            // The controller was to prove it knows its secret; one that does not authenticate at all proves nothing.
            // Only the admin queue counts: newer nvmet (7.x) authenticates the admin queue alone ("do not
            // authenticate I/O queues"), so its I/O queues' Connect asks for nothing.
            throw new NvmeAuthenticationException(
                $"The controller at {queue.RemoteEndPoint} does not ask for authentication on queue {queue.QueueId}, so it cannot be authenticated with the controller secret.",
                NvmeAuthenticationFailure.ControllerRejected, requirements, queue.QueueId, AuthFailureReason.None);
        }

        if (logger.IsEnabled(LogLevel.Debug))
        {
            Log.QueueConnected(logger, queue.QueueId, queue.RemoteEndPoint);
            if (queue.Tls is { } tls)
            {
                Log.QueueTls(logger, queue.QueueId, tls.Identity, tls.CipherSuite);
            }
        }

        return ((ushort)cqe.Dw0, generated);
    }

    private static async Task EnableAsync(Association association, TimeProvider time, CancellationToken cancellationToken)
    {
        var admin = association.Admin;

        // A static controller may come up enabled: disable it first and wait for RDY to clear (as Linux does).
        var cc = (uint)await GetPropertyAsync(admin, ControllerProperty.Cc, cancellationToken).ConfigureAwait(false);
        if (ControllerConfiguration.IsEnabled(cc))
        {
            await SetPropertyAsync(admin, ControllerProperty.Cc, cc & ~ControllerConfiguration.Enable, cancellationToken).ConfigureAwait(false);
            await WaitForStatusAsync(association, time, ready: false, "CSTS.RDY to clear", cancellationToken).ConfigureAwait(false);
        }

        // IOSQES 6 and IOCQES 4 (the defaults), MPS 4 KiB; CSS 110b (all supported I/O command sets) when CAP.CSS
        // says the controller has them, else NVM (000b), as Linux chooses.
        var commandSet = ControllerCapabilities.CommandSets(association.Capabilities).HasFlag(CommandSetsSupported.IoCommandSets)
            ? CommandSetSelection.AllIoCommandSets
            : CommandSetSelection.Nvm;
        await SetPropertyAsync(admin, ControllerProperty.Cc, ControllerConfiguration.Create(enable: true, commandSet), cancellationToken).ConfigureAwait(false);
        await WaitForStatusAsync(association, time, ready: true, "CSTS.RDY", cancellationToken).ConfigureAwait(false);
    }

    // Polls CSTS until RDY is as wanted, within CAP.TO (500 ms units, at least one); CSTS.CFS is fatal.
    private static async Task WaitForStatusAsync(Association association, TimeProvider time, bool ready, string what, CancellationToken cancellationToken)
    {
        var timeout = ControllerCapabilities.Timeout(association.Capabilities);
        timeout = timeout > TimeSpan.Zero ? timeout : TimeSpan.FromMilliseconds(ControllerCapabilities.TimeoutUnitMilliseconds);
        var started = time.GetTimestamp();
        var delay = 1;
        while (true)
        {
            var csts = (uint)await GetPropertyAsync(association.Admin, ControllerProperty.Csts, cancellationToken).ConfigureAwait(false);
            if (ControllerStatus.IsFatal(csts))
            {
                throw new NvmeControllerFatalException(
                    $"Controller {association.ControllerId} at {association.EndPoint} reports a fatal status (CSTS.CFS, CSTS 0x{csts:X}) while waiting for {what}.",
                    association.ControllerId,
                    csts);
            }

            if (ControllerStatus.IsReady(csts) == ready)
            {
                return;
            }

            if (time.GetElapsedTime(started) > timeout)
            {
                throw new NvmeTimeoutException($"Controller {association.ControllerId} at {association.EndPoint}: no {what} within CAP.TO ({timeout.TotalSeconds:0.#} s).", 0, timeout);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(delay), time, cancellationToken).ConfigureAwait(false);
            delay = Math.Min(delay * 2, 100);
        }
    }

    private static async Task ConnectIoQueuesAsync(Association association, NvmeTcpOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var requested = options.IoQueueCount;
        if (requested == 0)
        {
            return;
        }

        // Number of Queues (FID 07h): ask for NSQR = NCQR = n - 1, use what was granted (both 0's based in DW0).
        var cqe = await association.Admin.SubmitAsync(FeatureCommands.SetNumberOfQueues(requested, requested), CommandKind.Admin, default, default, cancellationToken).ConfigureAwait(false);
        var granted = Math.Min(requested, (int)Math.Min((cqe.Dw0 & 0xFFFF) + 1, (cqe.Dw0 >> 16) + 1));
        Log.QueuesGranted(logger, requested, granted);

        var size = Math.Min(options.IoQueueSize, ControllerCapabilities.MaxQueueEntries(association.Capabilities));
        var inCapsule = (int)Math.Clamp(association.Identify!.InCapsuleDataSize, 0, int.MaxValue);
        var connections = new List<QueueConnection>(granted);
        try
        {
            for (ushort qid = 1; qid <= granted; qid++)
            {
                var connection = await QueueConnection.ConnectAsync(association.EndPoint, IoQueueOptions(options, association, qid, size, inCapsule), cancellationToken).ConfigureAwait(false);
                Diagnostics.Telemetry.Connections.Add(1, new KeyValuePair<string, object?>("nvme.queue.type", "io"));
                connections.Add(connection);
                await ConnectQueueAsync(connection, options, logger, association.ControllerId, 0, AuthSecureChannel.None, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            // Kept by the association even when a step failed, so that closing it closes them.
            association.IoQueues = [.. connections];
        }
    }

    private static QueueConnectionOptions IoQueueOptions(NvmeTcpOptions options, Association association, ushort qid, int size, int inCapsule) => new()
    {
        QueueId = qid,
        QueueSize = size,
        HeaderDigest = options.HeaderDigest,
        DataDigest = options.DataDigest,
        MaxR2T = (uint)options.MaxR2T,
        MaxTransferSize = association.MaxTransferSize,
        InCapsuleDataSize = inCapsule,
        Tls = association.GeneratedTlsPsk ?? TlsPsk(options, qid),
        ConnectTimeout = options.ConnectTimeout,
        CommandTimeout = options.IoTimeout,
        DedicatedReceiveThread = options.DedicatedReceiveThreads,
        InlineCompletions = options.InlineCompletions,
        TimeProvider = options.TimeProvider,
        Resources = options.Resources!,
    };

    private static async Task<NvmeNamespace[]> ReadNamespacesAsync(QueueConnection admin, CancellationToken cancellationToken)
    {
        var namespaces = new List<NvmeNamespace>();
        var list = new byte[4096];
        uint after = 0;
        while (true)
        {
            // Active Namespace ID list (CNS 02h): up to 1024 NSIDs greater than the one given.
            await admin.SubmitAsync(IdentifyCommand.ActiveNamespaces(after), CommandKind.Admin, default, list, cancellationToken).ConfigureAwait(false);
            var ids = NvmeNamespaceList.Parse(list);
            foreach (var id in ids)
            {
                namespaces.Add(await ReadNamespaceAsync(admin, id, cancellationToken).ConfigureAwait(false));
            }

            if (ids.Count < 1024)
            {
                break;
            }

            after = ids[^1];
        }

        return [.. namespaces];
    }

    private static async Task<NvmeNamespace> ReadNamespaceAsync(QueueConnection admin, uint id, CancellationToken cancellationToken)
    {
        var data = new byte[4096];
        await admin.SubmitAsync(IdentifyCommand.Namespace(id), CommandKind.Admin, default, data, cancellationToken).ConfigureAwait(false);
        var identify = NvmeIdentifyNamespace.Parse(data);
        IReadOnlyList<NvmeNamespaceDescriptor> descriptors = [];
        var descriptorData = new byte[4096];
        try
        {
            await admin.SubmitAsync(IdentifyCommand.NamespaceDescriptors(id), CommandKind.Admin, default, descriptorData, cancellationToken).ConfigureAwait(false);
            descriptors = NvmeNamespaceDescriptor.ParseList(descriptorData);
        }
        catch (NvmeStatusException)
        {
            // CNS 03h is optional before NVMe 1.3: a namespace without descriptors is still usable.
        }

        return new NvmeNamespace(id, identify, descriptors);
    }

    private async Task<string> ShutdownAsync(Association association)
    {
        // CC.SHN = 01b keeping EN, then CSTS.SHST = 10b within RTD3E (µs) or, when it is 0, CAP.TO.
        var admin = association.Admin;
        try
        {
            using var timeout = new CancellationTokenSource(ShutdownTimeout(association), _time);
            var cc = (uint)await GetPropertyAsync(admin, ControllerProperty.Cc, timeout.Token).ConfigureAwait(false);
            await SetPropertyAsync(admin, ControllerProperty.Cc, ControllerConfiguration.WithShutdown(cc, ShutdownNotification.Normal), timeout.Token).ConfigureAwait(false);
            while (true)
            {
                var csts = (uint)await GetPropertyAsync(admin, ControllerProperty.Csts, timeout.Token).ConfigureAwait(false);
                if (ControllerStatus.Shutdown(csts) == ShutdownStatus.Complete)
                {
                    return "orderly shutdown complete";
                }

                await Task.Delay(TimeSpan.FromMilliseconds(10), _time, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is NvmeException or OperationCanceledException)
        {
            return $"shutdown not confirmed: {e.Message}";
        }
    }

    private static TimeSpan ShutdownTimeout(Association association)
    {
        var rtd3e = association.Identify?.Rtd3e ?? 0;
        var timeout = ControllerCapabilities.Timeout(association.Capabilities);
        return rtd3e != 0 ? TimeSpan.FromMilliseconds(Math.Clamp(rtd3e / 1000.0, 1000, 60_000))
            : timeout > TimeSpan.Zero ? timeout : TimeSpan.FromMilliseconds(ControllerCapabilities.TimeoutUnitMilliseconds);
    }

    private Task StartKeepAlive(Association association)
    {
        var katoMs = (uint)_options.KeepAliveTimeout.TotalMilliseconds;
        if (katoMs == 0)
        {
            return Task.CompletedTask;
        }

        // Keep Alive every KATO/2, as Linux does. With Traffic Based Keep Alive (CTRATT bit 6) any completion resets
        // the controller's timer, so a tick that saw completions sends nothing; the ticks come twice as often, since
        // one completion can then postpone the next Keep Alive by up to two of them (Linux's reasoning, core.c).
        var trafficBased = (association.Identify!.Ctratt & IdentifyControllerLayout.CtrattTrafficBasedKeepAlive) != 0;
        var period = TimeSpan.FromMilliseconds(katoMs / (trafficBased ? 4.0 : 2.0));
        var admin = association.Admin;
        var token = association.Stopping.Token;
        return Background(
            async () =>
            {
                using var timer = new PeriodicTimer(period, _time);
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
                        Diagnostics.Telemetry.KeepAlives.Add(1, new KeyValuePair<string, object?>("nvme.outcome", Diagnostics.Telemetry.Success));
                        seen = TotalCompletions(association);
                    }
                    catch (NvmeException e)
                    {
                        Diagnostics.Telemetry.KeepAlives.Add(1, new KeyValuePair<string, object?>("nvme.outcome", Diagnostics.Telemetry.Failure));
                        Diagnostics.Telemetry.CountError(e, "keep_alive");
                        Log.KeepAliveFailed(_logger, association.ControllerId, e.Message);
                        admin.Fail(e);
                        return;
                    }
                }
            });
    }

    private static long TotalCompletions(Association association)
    {
        var total = association.Admin.Completions;
        foreach (var connection in association.IoQueues)
        {
            total += connection.Completions;
        }

        return total;
    }

    // Runs background work of the controller on the thread pool, counted in Resources until it ends.
    private Task Background(Func<Task> work)
    {
        var resources = Resources;
        resources.TaskStarted();
        return Task.Run(
            async () =>
            {
                try
                {
                    await work().ConfigureAwait(false);
                }
                finally
                {
                    resources.TaskEnded();
                }
            },
            CancellationToken.None);
    }

    private static async Task<ulong> GetPropertyAsync(QueueConnection admin, uint offset, CancellationToken cancellationToken) =>
        (await admin.SubmitAsync(PropertyCommands.Get(offset), CommandKind.Fabrics, default, default, cancellationToken).ConfigureAwait(false)).Value64;

    private static async Task SetPropertyAsync(QueueConnection admin, uint offset, uint value, CancellationToken cancellationToken) =>
        await admin.SubmitAsync(PropertyCommands.Set(offset, value), CommandKind.Fabrics, default, default, cancellationToken).ConfigureAwait(false);
}
