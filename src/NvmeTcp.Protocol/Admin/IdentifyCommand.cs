using NvmeTcp.Protocol;

namespace NvmeTcp.Protocol.Admin;

/// <summary>
/// Identify, admin opcode 0x06 (NVMe Base 2.0 "Identify command"). Always returns 4096 bytes.
/// <code>
/// byte 4-7    NSID
/// byte 24-39  SGL1   transport data block, 4096 bytes
/// CDW10       bits 0-7 CNS, bits 16-31 CNTID (controller identifier, for controller lists)
/// CDW11       bits 0-15 CNS specific identifier, bits 24-31 CSI (command set identifier)
/// </code>
/// </summary>
public static class IdentifyCommand
{
    /// <summary>Bytes an Identify returns.</summary>
    public const int DataSize = 4096;

    /// <summary>Identify with any CNS.</summary>
    public static Sqe Create(byte cns, uint nsid = 0, ushort controllerId = 0, byte commandSetId = 0)
    {
        var sqe = Sqe.Create((byte)AdminOpcode.Identify, nsid);
        DataPointer.SetTransport(ref sqe, DataSize);
        sqe.Cdw10 = cns | ((uint)controllerId << 16);
        sqe.Cdw11 = (uint)commandSetId << 24;
        return sqe;
    }

    /// <summary>Identify Controller (CNS 0x01).</summary>
    public static Sqe Controller() => Create(IdentifyCns.Controller);

    /// <summary>Identify Namespace (CNS 0x00) of <paramref name="nsid"/>.</summary>
    public static Sqe Namespace(uint nsid) => Create(IdentifyCns.Namespace, nsid);

    /// <summary>Active Namespace ID list (CNS 0x02): active NSIDs greater than <paramref name="startAfterNsid"/>.</summary>
    public static Sqe ActiveNamespaces(uint startAfterNsid = 0) => Create(IdentifyCns.ActiveNamespaceList, startAfterNsid);

    /// <summary>Namespace Identification Descriptor list (CNS 0x03) of <paramref name="nsid"/>.</summary>
    public static Sqe NamespaceDescriptors(uint nsid) => Create(IdentifyCns.NamespaceDescriptors, nsid);
}
