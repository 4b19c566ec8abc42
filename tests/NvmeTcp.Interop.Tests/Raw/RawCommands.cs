using System.Text;
using NvmeTcp.Client.Protocol;

namespace NvmeTcp.Interop.Tests.Raw;

/// <summary>
/// The few SQEs these tests send, built byte by byte from the spec (NVMe-oF 1.1 3.3, NVMe Base 2.0 5.17). Kept local
/// and small on purpose: the library's own command builders are tested against these targets once they exist.
/// </summary>
internal static class RawCommands
{
    /// <summary>The length of the fabrics Connect data (NVMe-oF 1.1, Figure 20).</summary>
    public const int ConnectDataLength = 1024;

    private const byte FabricsOpcode = 0x7F;
    private const byte IdentifyOpcode = 0x06;

    // SGL descriptor type bytes (byte 15 of SGL1): data block with offset into the capsule, and transport data block.
    private const byte SglInCapsule = 0x01;
    private const byte SglTransport = 0x5A;

    /// <summary>Fabrics Connect (FCTYPE 0x01). CDW10: RECFMT 0, QID; CDW11: SQSIZE (0's based), CATTR; CDW12: KATO (ms).</summary>
    public static Sqe Connect(ushort cid, ushort qid, ushort sqSize, uint kato)
    {
        var sqe = Fabrics(cid, 0x01);
        sqe.SglLength = ConnectDataLength;
        sqe.SglType = SglInCapsule;
        sqe.Cdw10 = (uint)qid << 16;
        sqe.Cdw11 = sqSize;
        sqe.Cdw12 = kato;
        return sqe;
    }

    /// <summary>
    /// The Connect data: 0-15 HOSTID, 16-17 CNTLID (0xFFFF: any dynamic controller), 256-511 SUBNQN, 512-767 HOSTNQN,
    /// NUL-terminated.
    /// </summary>
    public static byte[] ConnectData(Guid hostId, ushort cntlid, string subsystemNqn, string hostNqn)
    {
        var data = new byte[ConnectDataLength];
        hostId.TryWriteBytes(data.AsSpan(0, 16), bigEndian: true, out _);
        data[16] = (byte)cntlid;
        data[17] = (byte)(cntlid >> 8);
        Encoding.ASCII.GetBytes(subsystemNqn, data.AsSpan(256, 255));
        Encoding.ASCII.GetBytes(hostNqn, data.AsSpan(512, 255));
        return data;
    }

    /// <summary>The HOSTID in a uuid host NQN (nqn.2014-08.org.nvmexpress:uuid:...), as Linux derives it.</summary>
    public static Guid HostIdOf(string hostNqn) => Guid.Parse(hostNqn[(hostNqn.LastIndexOf(':') + 1)..]);

    /// <summary>Property Set (FCTYPE 0x00) of a 4-byte property: byte 40 ATTRIB 0, 44-47 OFST, 48-55 VALUE.</summary>
    public static Sqe PropertySet4(ushort cid, uint offset, uint value)
    {
        var sqe = Fabrics(cid, 0x00);
        sqe.Cdw11 = offset;
        sqe.Cdw12 = value;
        return sqe;
    }

    /// <summary>Property Get (FCTYPE 0x04): byte 40 ATTRIB (1: 8 bytes), 44-47 OFST; the value returns in DW0 (and DW1).</summary>
    public static Sqe PropertyGet(ushort cid, uint offset, bool eightBytes)
    {
        var sqe = Fabrics(cid, 0x04);
        sqe.Cdw10 = eightBytes ? 1u : 0u;
        sqe.Cdw11 = offset;
        return sqe;
    }

    /// <summary>Identify: CDW10 bits 0-7 CNS; 4096 bytes come back in C2HData.</summary>
    public static Sqe Identify(ushort cid, byte cns, uint nsid)
    {
        var sqe = default(Sqe);
        sqe.Opcode = IdentifyOpcode;
        sqe.Flags = Sqe.PsdtSgl;
        sqe.Cid = cid;
        sqe.Nsid = nsid;
        sqe.SglLength = 4096;
        sqe.SglType = SglTransport;
        sqe.Cdw10 = cns;
        return sqe;
    }

    private static Sqe Fabrics(ushort cid, byte fctype)
    {
        var sqe = default(Sqe);
        sqe.Opcode = FabricsOpcode;
        sqe.Flags = Sqe.PsdtSgl;
        sqe.Cid = cid;
        sqe.FabricsCommandType = fctype;

        // No data: a transport data block of length 0, as Linux sends.
        sqe.SglType = SglTransport;
        return sqe;
    }
}
