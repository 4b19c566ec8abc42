namespace NvmeTcp.Protocol.Spec;

/// <summary>
/// Log page 03h, Firmware Slot Information (NVMe Base 2.0, 5.16.1.4): 512 bytes.
/// <code>
/// byte 0       AFI    bits 2:0 the active slot, bits 6:4 the slot activated at the next reset (0: none given)
/// bytes 8-63   FRS1..FRS7: each slot's firmware revision, 8 ASCII bytes, zero when the slot is empty
/// </code>
/// </summary>
public static class FirmwareSlotLayout
{
    /// <summary>Size of the log.</summary>
    public const int Size = 512;

    /// <summary>AFI's offset.</summary>
    public const int AfiOffset = 0;

    /// <summary>Slots the log describes.</summary>
    public const int SlotCount = 7;

    /// <summary>Bytes of one revision.</summary>
    public const int RevisionLength = 8;

    /// <summary>The offset of FRS<paramref name="slot"/> (1 to 7).</summary>
    /// <param name="slot">The slot, 1 to 7.</param>
    /// <returns>The byte offset.</returns>
    public static int RevisionOffset(int slot)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slot, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(slot, SlotCount);
        return slot * RevisionLength;
    }
}
