using System.Net;
using NvmeTcp.Client.Transport;

namespace NvmeTcp.Client.Core;

/// <summary>
/// One association with a controller (NVMe-oF "association": the admin queue's Connect up to its teardown): its
/// connections, what bring-up learnt (CNTLID, CAP, VS, Identify, the limits MDTS and IOCCSZ set, the namespaces) and
/// the background work that keeps it alive (keep-alive, asynchronous event requests, the failure watcher).
/// </summary>
/// <remarks>
/// Built whole by bring-up and then published by the controller in one write, so that a reader sees either the old
/// association or the new one, never a mix; a reconnect builds a new one. Everything but <see cref="Namespaces"/>
/// (refreshed on a namespace-change event) and <see cref="AnaLog"/> (on an ANA change) is fixed once it is published.
/// </remarks>
internal sealed class Association
{
    private NvmeNamespace[] _namespaces = [];
    private NvmeAnaLog? _anaLog;
    private NvmeTcp.Protocol.Tls.NvmeTlsPsk? _generatedTlsPsk;

    public Association(QueueConnection admin, EndPoint endPoint)
    {
        Admin = admin;
        EndPoint = endPoint;
    }

    /// <summary>The target's endpoint.</summary>
    public EndPoint EndPoint { get; }

    /// <summary>The admin queue.</summary>
    public QueueConnection Admin { get; }

    /// <summary>The I/O queues the controller granted (each a connection); empty on a discovery controller.</summary>
    public QueueConnection[] IoQueues { get; set; } = [];

    /// <summary>
    /// The TLS PSK secure channel concatenation generated for this association (the admin queue runs inside TLS with
    /// it, the I/O queues too); null without concatenation. A reconnect builds a new association and a new PSK; a
    /// re-authentication replaces it in place (volatile: read by other threads).
    /// </summary>
    public NvmeTcp.Protocol.Tls.NvmeTlsPsk? GeneratedTlsPsk
    {
        get => Volatile.Read(ref _generatedTlsPsk);
        set => Volatile.Write(ref _generatedTlsPsk, value);
    }

    /// <summary>CNTLID from the admin Connect.</summary>
    public ushort ControllerId { get; set; }

    /// <summary>CAP.</summary>
    public ulong Capabilities { get; set; }

    /// <summary>VS.</summary>
    public Version Version { get; set; } = new(0, 0);

    /// <summary>Identify Controller, read at bring-up.</summary>
    public NvmeIdentifyController? Identify { get; set; }

    /// <summary>The largest transfer of one command: the smaller of MDTS and the configured maximum.</summary>
    public int MaxTransferSize { get; set; }

    /// <summary>The active namespaces; replaced whole when a namespace-change event says so.</summary>
    public NvmeNamespace[] Namespaces
    {
        get => Volatile.Read(ref _namespaces);
        set => Volatile.Write(ref _namespaces, value);
    }

    /// <summary>The last ANA log read (at bring-up, on an ANA change notice or on request); null without ANA reporting.</summary>
    public NvmeAnaLog? AnaLog
    {
        get => Volatile.Read(ref _anaLog);
        set => Volatile.Write(ref _anaLog, value);
    }

    /// <summary>Cancels the association's background work.</summary>
    public CancellationTokenSource Stopping { get; } = new();

    /// <summary>The association's background work (keep-alive, event requests, watcher); completes once it is torn down.</summary>
    public Task BackgroundWork { get; set; } = Task.CompletedTask;

    /// <summary>The admin queue, then the I/O queues.</summary>
    public QueueConnection[] Connections => [Admin, .. IoQueues];

    /// <summary>The connection queue pair <paramref name="pair"/> uses: pairs share connections when fewer were granted.</summary>
    public QueueConnection IoQueueFor(int pair) => IoQueues[pair % IoQueues.Length];

    /// <summary>
    /// Tears the association down: every connection fails with <paramref name="reason"/> and is closed (its pending
    /// commands completed), then the background work stops. Safe to call more than once.
    /// </summary>
    public async Task CloseAsync(Exception reason)
    {
        await Stopping.CancelAsync().ConfigureAwait(false);
        var connections = Connections;
        foreach (var connection in connections)
        {
            connection.Fail(reason);
        }

        foreach (var connection in connections)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            await BackgroundWork.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or NvmeException)
        {
            // The work ends with the connections it used.
        }
    }
}
