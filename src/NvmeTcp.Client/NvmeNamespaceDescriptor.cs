using NvmeTcp.Protocol.Admin;

namespace NvmeTcp.Client;

/// <summary>
/// One Namespace Identification Descriptor (Identify CNS 03h; NVMe Base 2.0, Figure 274).
/// <code>
/// byte 0     NIDT  namespace identifier type (0 ends the list)
/// byte 1     NIDL  namespace identifier length
/// byte 2-3   reserved
/// byte 4..   NID   NIDL bytes
/// </code>
/// </summary>
public sealed class NvmeNamespaceDescriptor
{
    private const int HeaderSize = 4;

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
        while (data.Length - offset >= HeaderSize && data[offset] != 0)
        {
            var type = (NvmeNamespaceIdentifierType)data[offset];
            int length = data[offset + 1];
            int expected = ExpectedLength(type);
            if (expected != 0 && length != expected)
            {
                throw new InvalidDataException(
                    $"Namespace identification descriptor at byte {offset}: NIDT {(byte)type} needs NIDL {expected}, got {length}.");
            }

            // Lengths come from the wire: the descriptor must fit in what is left.
            if (length > data.Length - offset - HeaderSize)
            {
                throw new InvalidDataException(
                    $"Namespace identification descriptor at byte {offset}: NIDL {length} runs past the end of the {data.Length}-byte list.");
            }

            list.Add(new NvmeNamespaceDescriptor(type, data.Slice(offset + HeaderSize, length)));
            offset += HeaderSize + length;
        }

        return list.AsReadOnly();
    }

    private static int ExpectedLength(NvmeNamespaceIdentifierType type) => type switch
    {
        NvmeNamespaceIdentifierType.Eui64 => 8,
        NvmeNamespaceIdentifierType.Nguid => 16,
        NvmeNamespaceIdentifierType.Uuid => 16,
        NvmeNamespaceIdentifierType.Csi => 1,
        _ => 0,
    };
}

/// <summary>NIDT: the type of a namespace identification descriptor (NVMe Base 2.0, Figure 274).</summary>
public enum NvmeNamespaceIdentifierType : byte
{
    /// <summary>IEEE Extended Unique Identifier, 8 bytes.</summary>
    Eui64 = 1,

    /// <summary>Namespace Globally Unique Identifier, 16 bytes.</summary>
    Nguid = 2,

    /// <summary>Namespace UUID, 16 bytes.</summary>
    Uuid = 3,

    /// <summary>Command Set Identifier, 1 byte.</summary>
    Csi = 4,
}
