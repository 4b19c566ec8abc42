using NvmeTcp.Protocol;

namespace NvmeTcp.Protocol.Admin;

/// <summary>
/// Get Log Page, admin opcode 0x02 (NVMe Base 2.0 "Get Log Page command").
/// <code>
/// byte 4-7    NSID   0xFFFFFFFF for controller-wide logs such as SMART (as Linux sends it)
/// byte 24-39  SGL1   transport data block, the log length
/// CDW10       bits 0-7 LID, bits 8-14 LSP (log specific), bit 15 RAE (retain asynchronous event),
///             bits 16-31 NUMDL (low half of NUMD)
/// CDW11       bits 0-15 NUMDU (high half of NUMD), bits 16-31 LSI (log specific identifier)
/// CDW12-13    LPOL/LPOU: byte offset into the log, dword aligned
/// </code>
/// NUMD is the number of dwords minus one.
/// </summary>
public static class GetLogPageCommand
{
    /// <summary>Get Log Page of <paramref name="length"/> bytes of log <paramref name="logId"/> from <paramref name="offset"/>.</summary>
    /// <param name="logId">LID, e.g. <see cref="LogPageId.SmartHealth"/>.</param>
    /// <param name="length">Bytes to read: a non-zero multiple of 4.</param>
    /// <param name="nsid">NSID the log is about.</param>
    /// <param name="offset">Byte offset into the log: a multiple of 4.</param>
    /// <param name="logSpecific">LSP, 0 to 0x7F.</param>
    /// <param name="retainAsyncEvent">RAE: keep the asynchronous event that pointed here outstanding.</param>
    /// <param name="logSpecificId">LSI.</param>
    /// <exception cref="ArgumentException">A length of 0 or not a multiple of 4, an offset not a multiple of 4, or LSP above 0x7F.</exception>
    public static Sqe Create(byte logId, uint length, uint nsid = 0, ulong offset = 0, byte logSpecific = 0, bool retainAsyncEvent = false, ushort logSpecificId = 0)
    {
        if (length == 0 || length % 4 != 0)
        {
            throw new ArgumentException($"A log page transfer is a non-zero number of dwords; {length} bytes is not.", nameof(length));
        }

        if (offset % 4 != 0)
        {
            throw new ArgumentException($"A log page offset must be dword aligned; {offset} is not.", nameof(offset));
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan(logSpecific, (byte)0x7F);

        // NUMD is 0's based: 4 bytes is NUMD 0. It spans two 16-bit halves in CDW10 and CDW11.
        var numd = (length / 4) - 1;
        var sqe = Sqe.Create((byte)AdminOpcode.GetLogPage, nsid);
        DataPointer.SetTransport(ref sqe, length);
        sqe.Cdw10 = logId | ((uint)logSpecific << 8) | (retainAsyncEvent ? 1u << 15 : 0) | ((numd & 0xFFFF) << 16);
        sqe.Cdw11 = (numd >> 16) | ((uint)logSpecificId << 16);
        sqe.Cdw12 = (uint)offset;
        sqe.Cdw13 = (uint)(offset >> 32);
        return sqe;
    }
}
