using System.Buffers.Binary;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Client;

/// <summary>Log page 03h, Firmware Slot Information (see <see cref="FirmwareSlotLayout"/>).</summary>
public sealed class NvmeFirmwareSlotLog
{
    private readonly ulong[] _raw;

    private NvmeFirmwareSlotLog(byte afi, ulong[] raw)
    {
        Afi = afi;
        _raw = raw;
        Revisions = [.. raw.Select(v => v == 0 ? null : Ascii(v))];
    }

    /// <summary>AFI, Active Firmware Info, as read.</summary>
    public byte Afi { get; }

    /// <summary>The slot (1 to 7) the running firmware came from.</summary>
    public int ActiveSlot => Afi & 0x7;

    /// <summary>The slot activated at the next reset, or 0 when none was given.</summary>
    public int NextResetSlot => (Afi >> 4) & 0x7;

    /// <summary>FRS1 to FRS7: each slot's revision (trailing spaces removed), null for an empty slot.</summary>
    public IReadOnlyList<string?> Revisions { get; }

    /// <summary>FRS<paramref name="slot"/> as the little-endian 64-bit value nvme-cli also prints.</summary>
    /// <param name="slot">1 to 7.</param>
    /// <returns>The value; 0 for an empty slot.</returns>
    public ulong RawRevision(int slot) => _raw[FirmwareSlotLayout.RevisionOffset(slot) / FirmwareSlotLayout.RevisionLength - 1];

    /// <summary>Parses the log.</summary>
    /// <param name="data">The log: at least its first 64 bytes (AFI and the seven revisions).</param>
    /// <returns>The log.</returns>
    public static NvmeFirmwareSlotLog Parse(ReadOnlySpan<byte> data)
    {
        var needed = FirmwareSlotLayout.RevisionOffset(FirmwareSlotLayout.SlotCount) + FirmwareSlotLayout.RevisionLength;
        if (data.Length < needed)
        {
            throw new ArgumentException($"The firmware slot log needs {needed} bytes, not {data.Length}.", nameof(data));
        }

        var raw = new ulong[FirmwareSlotLayout.SlotCount];
        for (var slot = 1; slot <= FirmwareSlotLayout.SlotCount; slot++)
        {
            raw[slot - 1] = BinaryPrimitives.ReadUInt64LittleEndian(data[FirmwareSlotLayout.RevisionOffset(slot)..]);
        }

        return new NvmeFirmwareSlotLog(data[FirmwareSlotLayout.AfiOffset], raw);
    }

    private static string Ascii(ulong value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        var chars = new char[8];
        for (var i = 0; i < 8; i++)
        {
            chars[i] = bytes[i] is >= 0x20 and < 0x7F ? (char)bytes[i] : '.';
        }

        return new string(chars).TrimEnd(' ', '\0');
    }
}
