using NvmeTcp.Protocol.Tls;

namespace NvmeTcp.Client.Transport;

/// <summary>What one queue's connection needs to know; the controller fills it from the user's options.</summary>
internal sealed record QueueConnectionOptions
{
    /// <summary>The queue ID: 0 for the admin queue.</summary>
    public required ushort QueueId { get; init; }

    /// <summary>Commands outstanding at once (Connect's SQSIZE is this minus one).</summary>
    public required int QueueSize { get; init; }

    /// <summary>Ask for header digests in ICReq.</summary>
    public bool HeaderDigest { get; init; }

    /// <summary>Ask for data digests in ICReq.</summary>
    public bool DataDigest { get; init; }

    /// <summary>HPDA to ask for, 0's based dwords (Linux sends 0).</summary>
    public byte Hpda { get; init; }

    /// <summary>MAXR2T to offer, 0's based (Linux offers 0: one R2T at a time per command).</summary>
    public uint MaxR2T { get; init; }

    /// <summary>The most data the controller may send in one C2HData PDU (also bounds any transfer).</summary>
    public int MaxTransferSize { get; init; } = 1 << 20;

    /// <summary>Largest write sent in the capsule (the admin queue allows 8 KiB; I/O queues IOCCSZ * 16 - 64).</summary>
    public int InCapsuleDataSize { get; init; } = QueueConnection.AdminInCapsuleDataSize;

    /// <summary>
    /// The TLS PSK (identity, hash, key) this queue's connection runs TLS 1.3 with, ICReq and everything after it
    /// inside; null: plain TCP. Secure channel concatenation sets a generated PSK here for the admin queue's second
    /// connection and the I/O queues.
    /// </summary>
    public NvmeTlsPsk? Tls { get; init; }

    /// <summary>Time for TCP connect, the TLS handshake if any, plus ICReq/ICResp.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Time a command may be outstanding before the association is reset.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Receive on a thread of the connection's own that blocks in the kernel (see NvmeTcpOptions.DedicatedReceiveThreads).</summary>
    public bool DedicatedReceiveThread { get; init; }

    /// <summary>Signal completions on the receiving thread (see NvmeTcpOptions.InlineCompletions).</summary>
    public bool InlineCompletions { get; init; }

    /// <summary>The clock of command deadlines and the timeout timer.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Where the connection counts its socket, loops and slots (the controller's, shared by its queues).</summary>
    public ResourceCounters Resources { get; init; } = new();
}
