using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Protocol.Fabrics;

/// <summary>
/// Property Set (FCTYPE 0x00) and Property Get (FCTYPE 0x04) (NVMe-oF 1.1 "Property Get Command" and
/// "Property Set Command"; Linux <c>struct nvmf_property_set_command</c> / <c>nvmf_property_get_command</c>).
/// <code>
/// byte 0      opcode 0x7F
/// byte 4      FCTYPE
/// byte 24-39  SGL1   transport data block, length 0 (no data)
/// byte 40     ATTRIB bits 0-2 property size: 0 = 4 bytes, 1 = 8 bytes
/// byte 44-47  OFST   property offset
/// byte 48-55  VALUE  (Property Set only; a 4-byte property uses bytes 48-51)
/// </code>
/// Property Get returns the value in CQE DW0 (and DW1 for 8 bytes).
/// </summary>
public static class PropertyCommands
{
    /// <summary>Byte offset of ATTRIB.</summary>
    public const int AttributesOffset = 40;

    /// <summary>Byte offset of OFST.</summary>
    public const int PropertyOffsetOffset = 44;

    /// <summary>Byte offset of VALUE.</summary>
    public const int ValueOffset = 48;

    /// <summary>Property Get of <paramref name="offset"/>, 4 or 8 bytes wide.</summary>
    public static Sqe Get(uint offset, PropertySize size)
    {
        var sqe = FabricsCommand.Create(FabricsCommandType.PropertyGet);
        sqe[AttributesOffset] = (byte)size;
        sqe.WriteUInt32(PropertyOffsetOffset, offset);
        return sqe;
    }

    /// <summary>Property Get of a property with its natural width (CAP is 8 bytes; VS, CC, CSTS, NSSR 4).</summary>
    public static Sqe Get(uint offset) => Get(offset, ControllerProperty.SizeOf(offset));

    /// <summary>Property Set of <paramref name="offset"/> to <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A 4-byte property and a value above <see cref="uint.MaxValue"/>.</exception>
    public static Sqe Set(uint offset, ulong value, PropertySize size)
    {
        if (size == PropertySize.FourBytes)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, uint.MaxValue);
        }

        var sqe = FabricsCommand.Create(FabricsCommandType.PropertySet);
        sqe[AttributesOffset] = (byte)size;
        sqe.WriteUInt32(PropertyOffsetOffset, offset);
        sqe.WriteUInt64(ValueOffset, value);
        return sqe;
    }

    /// <summary>Property Set of a 4-byte property such as CC.</summary>
    public static Sqe Set(uint offset, uint value) => Set(offset, value, PropertySize.FourBytes);
}

/// <summary>ATTRIB bits 0-2 of Property Get/Set: the property's width.</summary>
public enum PropertySize : byte
{
    /// <summary>A 4-byte property.</summary>
    FourBytes = 0,

    /// <summary>An 8-byte property.</summary>
    EightBytes = 1,
}
