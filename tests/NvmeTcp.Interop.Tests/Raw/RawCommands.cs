using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Fabrics;
using NvmeTcp.Protocol;

namespace NvmeTcp.Interop.Tests.Raw;

/// <summary>
/// The few SQEs the raw-socket tests send, from the library's own command builders (one codec: the builders are
/// golden-tested against what the Linux host sends); this only sets the CID these tests manage themselves.
/// </summary>
internal static class RawCommands
{
    /// <summary>The length of the fabrics Connect data (NVMe-oF 1.1, Figure 20).</summary>
    public const int ConnectDataLength = NvmeTcp.Protocol.Fabrics.ConnectData.Size;

    /// <summary>Fabrics Connect of queue <paramref name="qid"/> with SQSIZE <paramref name="sqSize"/> (0's based) and KATO in ms.</summary>
    public static Sqe Connect(ushort cid, ushort qid, ushort sqSize, uint kato) =>
        WithCid(ConnectCommand.Create(qid, sqSize + 1, ConnectAttributes.None, kato), cid);

    /// <summary>The 1024-byte Connect data: HOSTID, CNTLID (0xFFFF: any dynamic controller), SUBNQN, HOSTNQN.</summary>
    public static byte[] ConnectData(Guid hostId, ushort cntlid, string subsystemNqn, string hostNqn)
    {
        var data = new byte[ConnectDataLength];
        NvmeTcp.Protocol.Fabrics.ConnectData.Write(data, hostId, cntlid, subsystemNqn, hostNqn);
        return data;
    }

    /// <summary>The HOSTID in a uuid host NQN (nqn.2014-08.org.nvmexpress:uuid:...), as Linux derives it.</summary>
    public static Guid HostIdOf(string hostNqn) => Guid.Parse(hostNqn[(hostNqn.LastIndexOf(':') + 1)..]);

    /// <summary>Property Set of a 4-byte property.</summary>
    public static Sqe PropertySet4(ushort cid, uint offset, uint value) => WithCid(PropertyCommands.Set(offset, value), cid);

    /// <summary>Property Get; the value returns in DW0 (and DW1 for 8 bytes).</summary>
    public static Sqe PropertyGet(ushort cid, uint offset, bool eightBytes) =>
        WithCid(PropertyCommands.Get(offset, eightBytes ? PropertySize.EightBytes : PropertySize.FourBytes), cid);

    /// <summary>Identify with <paramref name="cns"/>; 4096 bytes come back in C2HData.</summary>
    public static Sqe Identify(ushort cid, byte cns, uint nsid) => WithCid(IdentifyCommand.Create(cns, nsid), cid);

    private static Sqe WithCid(Sqe sqe, ushort cid)
    {
        sqe.Cid = cid;
        return sqe;
    }
}
