using System.Buffers.Binary;

namespace NvmeTcp.Target;

/// <summary>The controller-to-host PDU types a fault rule can match (NVMe/TCP 3.6.1 PDU-Type values).</summary>
public enum NvmeFaultPdu : byte
{
    /// <summary>ICResp (0x01).</summary>
    ICResp = 0x01,

    /// <summary>C2HTermReq (0x03).</summary>
    C2HTermReq = 0x03,

    /// <summary>CapsuleResp (0x05).</summary>
    CapsuleResp = 0x05,

    /// <summary>C2HData (0x07).</summary>
    C2HData = 0x07,

    /// <summary>R2T (0x09).</summary>
    R2T = 0x09,
}

/// <summary>What a fault rule does to the PDU it matches.</summary>
public enum NvmeFaultAction
{
    /// <summary>
    /// Overwrites <see cref="NvmeTargetFault.Bytes"/> at byte <see cref="NvmeTargetFault.Offset"/> of the PDU (a
    /// header field, a CQE's CID, PLEN...). The header digest is recomputed unless
    /// <see cref="NvmeTargetFault.KeepHeaderDigest"/>, so the host sees the bad field rather than a digest error.
    /// </summary>
    Patch,

    /// <summary>Flips the header digest (needs header digests negotiated).</summary>
    CorruptHeaderDigest,

    /// <summary>Flips the data digest (needs data digests negotiated and a PDU with data).</summary>
    CorruptDataDigest,

    /// <summary>Waits <see cref="NvmeTargetFault.Delay"/> before sending it (and everything behind it).</summary>
    Delay,

    /// <summary>Does not send it.</summary>
    Drop,

    /// <summary>Sends it twice: a command completed twice, a second R2T beyond MAXR2T, a repeated C2HData.</summary>
    Duplicate,

    /// <summary>Holds it and sends it after the next PDU: C2HData chunks out of order, a CapsuleResp before its data.</summary>
    Reorder,

    /// <summary>Sends a C2HTermReq with <see cref="NvmeTargetFault.Fes"/> and <see cref="NvmeTargetFault.Fei"/> (and the matched header) instead, then closes.</summary>
    Terminate,

    /// <summary>Sends the first <see cref="NvmeTargetFault.Offset"/> bytes of it (0: none), then closes the connection (FIN).</summary>
    Close,

    /// <summary>Sends the first <see cref="NvmeTargetFault.Offset"/> bytes of it (0: none), then resets the connection (RST, linger 0).</summary>
    Reset,

    /// <summary>Sends neither it nor anything after it; the connection stays open and keeps reading (a black hole).</summary>
    BlackHole,

    /// <summary>
    /// Sends, before it, a C2HData of <see cref="NvmeTargetFault.Offset"/> zero bytes (4 if 0) for the CID the matched
    /// PDU names (a CapsuleResp's CID, an R2T's CCCID): data for a write, or for a command that has none.
    /// </summary>
    InjectC2HData,

    /// <summary>
    /// Sends the first <see cref="NvmeTargetFault.Offset"/> bytes of it, waits <see cref="NvmeTargetFault.Delay"/>, then
    /// sends the rest: the PDU split at a chosen byte over two TCP segments.
    /// </summary>
    Split,

    /// <summary>
    /// Sends it, then a C2HData of <see cref="NvmeTargetFault.Offset"/> zero bytes (4 if 0) for the CID it names (a
    /// CapsuleResp's CID): data for a command the host has already seen complete.
    /// </summary>
    AppendC2HData,

    /// <summary>
    /// Sends an R2T together with (in the same socket write) a second R2T for the same command asking for the next
    /// R2TL bytes, with the next TTAG: a new, in-sequence R2T while the first is still unanswered, beyond a MAXR2T of 0.
    /// </summary>
    AppendNextR2T,
}

/// <summary>
/// One fault rule: which outgoing PDUs it matches (type, queue, ordinal) and what it does to them. Rules compose:
/// every matching rule applies, in the order added (patches and digest corruption first, then the one action that
/// decides what is sent). Ordinals count the PDUs a rule matched since it was added, over every connection whose
/// queue matches.
/// </summary>
/// <example>
/// <code>
/// target.Testing.Faults.Add(new NvmeTargetFault { Pdu = NvmeFaultPdu.C2HData, QueueId = 1, Ordinal = 3, Action = NvmeFaultAction.CorruptDataDigest });
/// target.Testing.Faults.Add(NvmeTargetFault.PatchUInt16(NvmeFaultPdu.CapsuleResp, NvmeTargetFault.CqeCidOffset, 0xBEEF, queueId: 1));
/// </code>
/// </example>
public sealed class NvmeTargetFault
{
    /// <summary>Byte offset of the CID in a CapsuleResp (8 + 12).</summary>
    public const int CqeCidOffset = 20;

    /// <summary>Byte offset of PLEN in every PDU.</summary>
    public const int PlenOffset = 4;

    /// <summary>Byte offset of DATAO in C2HData (and R2TO in R2T).</summary>
    public const int DataOffsetOffset = 12;

    /// <summary>Byte offset of DATAL in C2HData (and R2TL in R2T).</summary>
    public const int DataLengthOffset = 16;

    private int _seen;
    private int _applied;

    /// <summary>The PDU type matched; null matches every type.</summary>
    public NvmeFaultPdu? Pdu { get; init; }

    /// <summary>The queue matched (0 admin, 1.. I/O); null matches every connection, including one not yet connected (ICResp).</summary>
    public int? QueueId { get; init; }

    /// <summary>The first matching PDU acted on, 1-based. Default 1.</summary>
    public int Ordinal { get; init; } = 1;

    /// <summary>How many matching PDUs from <see cref="Ordinal"/> on are acted on. Default 1; <see cref="int.MaxValue"/> for all.</summary>
    public int Count { get; init; } = 1;

    /// <summary>What to do.</summary>
    public NvmeFaultAction Action { get; init; }

    /// <summary><see cref="NvmeFaultAction.Patch"/>: byte offset in the PDU; Close/Reset: bytes sent first; InjectC2HData: data length.</summary>
    public int Offset { get; init; }

    /// <summary><see cref="NvmeFaultAction.Patch"/>: the bytes written at <see cref="Offset"/>.</summary>
    public ReadOnlyMemory<byte> Bytes { get; init; }

    /// <summary><see cref="NvmeFaultAction.Patch"/>: leave the header digest as it was (so it no longer matches).</summary>
    public bool KeepHeaderDigest { get; init; }

    /// <summary><see cref="NvmeFaultAction.Delay"/>: how long.</summary>
    public TimeSpan Delay { get; init; }

    /// <summary><see cref="NvmeFaultAction.Terminate"/>: FES of the C2HTermReq.</summary>
    public ushort Fes { get; init; } = 1;

    /// <summary><see cref="NvmeFaultAction.Terminate"/>: FEI of the C2HTermReq.</summary>
    public uint Fei { get; init; }

    /// <summary>How many PDUs this rule has acted on.</summary>
    public int Applied => Volatile.Read(ref _applied);

    /// <summary>A rule that overwrites bytes of the <paramref name="ordinal"/>th <paramref name="pdu"/>.</summary>
    public static NvmeTargetFault Patch(NvmeFaultPdu pdu, int offset, ReadOnlyMemory<byte> bytes, int? queueId = null, int ordinal = 1) =>
        new() { Pdu = pdu, QueueId = queueId, Ordinal = ordinal, Action = NvmeFaultAction.Patch, Offset = offset, Bytes = bytes };

    /// <summary>A rule that overwrites a little-endian 16-bit field (a CID, CCCID, TTAG).</summary>
    public static NvmeTargetFault PatchUInt16(NvmeFaultPdu pdu, int offset, ushort value, int? queueId = null, int ordinal = 1)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        return Patch(pdu, offset, bytes, queueId, ordinal);
    }

    /// <summary>A rule that overwrites a little-endian 32-bit field (PLEN, DATAO, DATAL, R2TL).</summary>
    public static NvmeTargetFault PatchUInt32(NvmeFaultPdu pdu, int offset, uint value, int? queueId = null, int ordinal = 1)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return Patch(pdu, offset, bytes, queueId, ordinal);
    }

    /// <summary>Counts a matching PDU; true when this one is to be acted on.</summary>
    internal bool Take()
    {
        var seen = Interlocked.Increment(ref _seen);
        if (seen < Ordinal || seen - Ordinal >= Count)
        {
            return false;
        }

        Interlocked.Increment(ref _applied);
        return true;
    }

    internal int Seen => Volatile.Read(ref _seen);

    internal bool Matches(int queueId, byte pduType) =>
        (Pdu is null || (byte)Pdu == pduType) && (QueueId is null || QueueId == queueId);
}

/// <summary>
/// The fault rules of a target, applied by every connection's send loop to the PDUs it sends. Thread-safe; rules can
/// be added or removed while hosts are connected. With no rule the send path coalesces PDUs and checks nothing.
/// </summary>
public sealed class NvmeTargetFaults
{
    private readonly object _sync = new();
    private NvmeTargetFault[] _rules = [];

    /// <summary>The rules, in the order they apply.</summary>
    public IReadOnlyList<NvmeTargetFault> Rules => Volatile.Read(ref _rules);

    internal bool IsArmed => Volatile.Read(ref _rules).Length != 0;

    /// <summary>Adds a rule; returns it, so that its <see cref="NvmeTargetFault.Applied"/> count can be watched.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="fault"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Its ordinal or count is below 1.</exception>
    public NvmeTargetFault Add(NvmeTargetFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        ArgumentOutOfRangeException.ThrowIfLessThan(fault.Ordinal, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(fault.Count, 1);
        lock (_sync)
        {
            Volatile.Write(ref _rules, [.. _rules, fault]);
        }

        return fault;
    }

    /// <summary>Removes a rule; false if it was not there.</summary>
    public bool Remove(NvmeTargetFault fault)
    {
        lock (_sync)
        {
            var kept = _rules.Where(r => r != fault).ToArray();
            var removed = kept.Length != _rules.Length;
            Volatile.Write(ref _rules, kept);
            return removed;
        }
    }

    /// <summary>Removes every rule.</summary>
    public void Clear()
    {
        lock (_sync)
        {
            Volatile.Write(ref _rules, []);
        }
    }
}
