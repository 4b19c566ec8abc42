using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Spec;
using Layout = NvmeTcp.Protocol.Spec.NamespaceDescriptorLayout;

namespace NvmeTcp.Client;

/// <summary>
/// One Namespace Identification Descriptor (Identify CNS 03h; NVMe Base 2.0, Figure 274): NIDT, NIDL and NID as
/// <see cref="NamespaceDescriptorLayout"/> says.
/// </summary>
public sealed class NvmeNamespaceDescriptor
{
    private NvmeNamespaceDescriptor(NvmeNamespaceIdentifierType type, ReadOnlySpan<byte> value)
    {
        Type = type;
        Value = AdminData.Copy(value);
    }

    /// <summary>NIDT: the namespace identifier type.</summary>
    public NvmeNamespaceIdentifierType Type { get; }

    /// <summary>NIDL: the identifier length in bytes.</summary>
    public int Length => Value.Length;

    /// <summary>NID: the identifier bytes as received (big-endian for EUI64, NGUID and UUID).</summary>
    public ReadOnlyMemory<byte> Value { get; }

    /// <summary>The UUID (RFC 9562 byte order) when <see cref="Type"/> is <see cref="NvmeNamespaceIdentifierType.Uuid"/>; otherwise null.</summary>
    public Guid? Uuid => Type == NvmeNamespaceIdentifierType.Uuid ? new Guid(Value.Span, bigEndian: true) : null;

    /// <summary>The command set identifier when <see cref="Type"/> is <see cref="NvmeNamespaceIdentifierType.Csi"/> (0 NVM, 2 zoned); otherwise null.</summary>
    public byte? Csi => Type == NvmeNamespaceIdentifierType.Csi ? Value.Span[0] : null;

    /// <summary>The identifier as nvme-cli prints it: a UUID in its usual form, the CSI in decimal, anything else as lowercase hex.</summary>
    public override string ToString() => Type switch
    {
        NvmeNamespaceIdentifierType.Uuid => Uuid!.Value.ToString(),
        NvmeNamespaceIdentifierType.Csi => Csi!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => Convert.ToHexStringLower(Value.Span),
    };

    /// <summary>
    /// Parses a Namespace Identification Descriptor list (usually 4096 bytes). The list ends at a
    /// descriptor with NIDT 0 or where fewer than 4 bytes remain.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// A descriptor runs past the end of <paramref name="data"/>, or a known type has the wrong NIDL
    /// (EUI64 8, NGUID 16, UUID 16, CSI 1). Unknown types are kept with the length they give.
    /// </exception>
    internal static IReadOnlyList<NvmeNamespaceDescriptor> ParseList(ReadOnlySpan<byte> data)
    {
        var list = new List<NvmeNamespaceDescriptor>();
        int offset = 0;
        while (data.Length - offset >= Layout.HeaderSize && data[offset + Layout.Nidt] != Layout.TypeEnd)
        {
            var type = (NvmeNamespaceIdentifierType)data[offset + Layout.Nidt];
            int length = data[offset + Layout.Nidl];
            int expected = Layout.LengthOf((byte)type);
            if (expected != 0 && length != expected)
            {
                throw new InvalidDataException(
                    $"Namespace identification descriptor at byte {offset}: NIDT {(byte)type} needs NIDL {expected}, got {length}.");
            }

            // Lengths come from the wire: the descriptor must fit in what is left.
            if (length > data.Length - offset - Layout.Nid)
            {
                throw new InvalidDataException(
                    $"Namespace identification descriptor at byte {offset}: NIDL {length} runs past the end of the {data.Length}-byte list.");
            }

            list.Add(new NvmeNamespaceDescriptor(type, data.Slice(offset + Layout.Nid, length)));
            offset += Layout.Nid + length;
        }

        return list.AsReadOnly();
    }
}

/// <summary>NIDT: the type of a namespace identification descriptor (NVMe Base 2.0, Figure 274).</summary>
public enum NvmeNamespaceIdentifierType : byte
{
    /// <summary>IEEE Extended Unique Identifier, 8 bytes.</summary>
    Eui64 = Layout.TypeEui64,

    /// <summary>Namespace Globally Unique Identifier, 16 bytes.</summary>
    Nguid = Layout.TypeNguid,

    /// <summary>Namespace UUID, 16 bytes.</summary>
    Uuid = Layout.TypeUuid,

    /// <summary>Command Set Identifier, 1 byte.</summary>
    Csi = Layout.TypeCsi,
}
