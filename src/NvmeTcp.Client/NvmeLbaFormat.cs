using System.Buffers.Binary;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Client;

/// <summary>
/// One LBA Format data structure of Identify Namespace (NVM Command Set 1.0, Figure 116), 4 bytes: MS, LBADS and RP as
/// <see cref="LbaFormatLayout"/> says.
/// </summary>
public readonly struct NvmeLbaFormat : IEquatable<NvmeLbaFormat>
{
    private readonly uint _value;

    private NvmeLbaFormat(uint value) => _value = value;

    /// <summary>MS: metadata size in bytes per logical block (0 = no metadata).</summary>
    public ushort MetadataSize => LbaFormatLayout.MetadataSize(_value);

    /// <summary>LBADS: LBA data size as a power of two (9 = 512 bytes, 12 = 4096 bytes); 0 = this format is not available.</summary>
    public byte Lbads => LbaFormatLayout.DataSizeShift(_value);

    /// <summary>The LBA data size in bytes, 2^LBADS; 0 when LBADS is 0 or too large to be a real size (63 or more).</summary>
    public long DataSize => Lbads is > 0 and < 63 ? 1L << Lbads : 0;

    /// <summary>RP: relative performance (0 best performance, 1 better, 2 good, 3 degraded).</summary>
    public int RelativePerformance => LbaFormatLayout.RelativePerformance(_value);

    /// <summary>The raw 32-bit entry.</summary>
    public uint Value => _value;

    /// <summary>Reads the 4-byte entry.</summary>
    internal static NvmeLbaFormat Parse(ReadOnlySpan<byte> data) => new(BinaryPrimitives.ReadUInt32LittleEndian(data));

    /// <inheritdoc/>
    public bool Equals(NvmeLbaFormat other) => _value == other._value;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is NvmeLbaFormat other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => (int)_value;

    /// <summary>Equality of the raw entries.</summary>
    public static bool operator ==(NvmeLbaFormat left, NvmeLbaFormat right) => left.Equals(right);

    /// <summary>Inequality of the raw entries.</summary>
    public static bool operator !=(NvmeLbaFormat left, NvmeLbaFormat right) => !left.Equals(right);

    /// <summary>The fields as nvme-cli prints them, e.g. <c>ms:0 lbads:9 rp:0</c>.</summary>
    public override string ToString() => $"ms:{MetadataSize} lbads:{Lbads} rp:{RelativePerformance}";
}
