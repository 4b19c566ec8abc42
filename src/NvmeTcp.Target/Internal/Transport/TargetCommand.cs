using System.Buffers;
using NvmeTcp.Protocol;
using NvmeTcp.Target.Internal.Execution;

namespace NvmeTcp.Target.Internal.Transport;

/// <summary>
/// A command received on a queue and not yet completed: its SQE (the <see cref="TargetRequest"/> command execution
/// sees) and, for host-to-controller data moved by R2T, the buffer being filled and the R2Ts outstanding (served in
/// order, so a ring of their end offsets is enough). Slots are reused: nothing is allocated per command once a
/// connection has warmed up, but the data buffer, which comes from <see cref="ArrayPool{T}.Shared"/> only when the
/// data is solicited (its R2T goes out), never when the command arrives.
/// </summary>
internal sealed class TargetCommand : TargetRequest
{
    private readonly uint[] _r2tEnds;
    private readonly ushort[] _r2tTags;
    private int _r2tHead;

    public TargetCommand(int slot, int maxOutstandingR2Ts)
    {
        Slot = slot;
        _r2tEnds = new uint[maxOutstandingR2Ts];
        _r2tTags = new ushort[maxOutstandingR2Ts];
    }

    /// <summary>Index of this slot in its connection; the low 12 bits of every TTAG it hands out.</summary>
    public int Slot { get; }

    /// <summary>The host-to-controller data being collected, rented.</summary>
    public byte[]? Buffer { get; private set; }

    /// <summary>Bytes of data the command moves host to controller.</summary>
    public uint Length { get; private set; }

    /// <summary>Bytes received so far (H2CData must arrive at exactly this DATAO).</summary>
    public uint Received { get; set; }

    /// <summary>End of the data requested by the R2Ts sent so far.</summary>
    public uint Requested { get; set; }

    /// <summary>R2Ts sent and not yet fully answered.</summary>
    public int OutstandingR2Ts { get; private set; }

    /// <summary>A data digest failed on some of the data: the command completes with Transient Transport Error.</summary>
    public bool DigestError { get; set; }

    private int _r2tSequence;

    /// <summary>Bytes of host data this command waits to solicit (its R2T is queued behind others'), else 0.</summary>
    public uint PendingLength { get; private set; }

    /// <summary>Accepted, its data not yet solicited: no buffer, no R2T.</summary>
    public bool IsAwaitingR2T => PendingLength != 0 && Buffer is null;

    /// <summary>Marks the command as waiting for its turn to solicit <paramref name="length"/> bytes.</summary>
    public void AwaitR2T(uint length) => PendingLength = length;

    public void Start(in Sqe sqe)
    {
        Sqe = sqe;
        PendingLength = 0;
        Received = 0;
        Requested = 0;
        OutstandingR2Ts = 0;
        _r2tHead = 0;
        DigestError = false;
    }

    /// <summary>Rents the buffer for <paramref name="length"/> bytes of R2T data.</summary>
    public void RentBuffer(uint length)
    {
        PendingLength = 0;
        Length = length;
        Buffer = ArrayPool<byte>.Shared.Rent((int)length);
    }

    /// <summary>Records an R2T for [Requested, Requested + length); returns its TTAG.</summary>
    public ushort AddR2T(uint length)
    {
        Requested += length;
        var index = (_r2tHead + OutstandingR2Ts) % _r2tEnds.Length;
        // TTAG: the slot in bits 0-11, a per-command sequence in bits 12-15, so a stale TTAG is told apart.
        var ttag = (ushort)(Slot | ((_r2tSequence++ & 0xF) << 12));
        _r2tEnds[index] = Requested;
        _r2tTags[index] = ttag;
        OutstandingR2Ts++;
        return ttag;
    }

    /// <summary>The TTAG H2CData must carry: the oldest outstanding R2T's.</summary>
    public ushort CurrentTag => _r2tTags[_r2tHead];

    /// <summary>End offset of the oldest outstanding R2T.</summary>
    public uint CurrentEnd => _r2tEnds[_r2tHead];

    /// <summary>The oldest R2T has been answered in full.</summary>
    public void CompleteR2T()
    {
        _r2tHead = (_r2tHead + 1) % _r2tEnds.Length;
        OutstandingR2Ts--;
    }

    public bool CanSendR2T => OutstandingR2Ts < _r2tEnds.Length && Requested < Length;

    /// <summary>Returns the buffer to the pool.</summary>
    public void Release()
    {
        if (Buffer is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            Buffer = null;
        }

        Length = 0;
        PendingLength = 0;
    }
}
