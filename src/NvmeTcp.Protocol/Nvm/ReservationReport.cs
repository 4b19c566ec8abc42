using System.Buffers.Binary;
using Layout = NvmeTcp.Protocol.Nvm.ReservationReportLayout;

namespace NvmeTcp.Protocol.Nvm;

/// <summary>One registrant of a <see cref="ReservationReport"/>.</summary>
/// <param name="ControllerId">CNTLID (FFFFh: the host has no controller connected now).</param>
/// <param name="HoldsReservation">RCSTS bit 0.</param>
/// <param name="HostId">HOSTID: 128-bit in the extended format; the 64-bit one in its last 8 bytes otherwise.</param>
/// <param name="Key">RKEY.</param>
public sealed record ReservationRegistrant(ushort ControllerId, bool HoldsReservation, Guid HostId, ulong Key);

/// <summary>The Reservation Status data structure (see <see cref="ReservationReportLayout"/>), parsed.</summary>
/// <param name="Generation">GEN.</param>
/// <param name="Type">RTYPE (None when no reservation is held).</param>
/// <param name="PersistThroughPowerLoss">PTPLS.</param>
/// <param name="Registrants">The registrants the data holds (at most REGCTL, fewer when the buffer was short).</param>
/// <param name="RegisteredControllers">REGCTL as reported.</param>
public sealed record ReservationReport(uint Generation, ReservationType Type, bool PersistThroughPowerLoss, IReadOnlyList<ReservationRegistrant> Registrants, int RegisteredControllers)
{
    /// <summary>Parses the data; entries that the buffer cuts off are left out, never read past its end.</summary>
    /// <param name="data">The data Reservation Report returned.</param>
    /// <param name="extended">Whether it was asked for with EDS (128-bit host IDs).</param>
    /// <returns>The report.</returns>
    public static ReservationReport Parse(ReadOnlySpan<byte> data, bool extended)
    {
        var header = extended ? Layout.ExtendedHeaderSize : Layout.HeaderSize;
        if (data.Length < header)
        {
            throw new ArgumentException($"A reservation status needs at least {header} bytes, not {data.Length}.", nameof(data));
        }

        var count = BinaryPrimitives.ReadUInt16LittleEndian(data[Layout.RegisteredControllersOffset..]);
        var entrySize = extended ? Layout.ExtendedEntrySize : Layout.EntrySize;
        var fits = Math.Min(count, (data.Length - header) / entrySize);
        var registrants = new ReservationRegistrant[fits];
        Span<byte> id = stackalloc byte[16];
        for (var i = 0; i < fits; i++)
        {
            var entry = data.Slice(header + (i * entrySize), entrySize);
            var cntlid = BinaryPrimitives.ReadUInt16LittleEndian(entry[Layout.ControllerIdOffset..]);
            var holds = (entry[Layout.StatusOffset] & 1) != 0;
            if (extended)
            {
                registrants[i] = new ReservationRegistrant(cntlid, holds, new Guid(entry.Slice(Layout.ExtendedHostIdOffset, 16), bigEndian: true), BinaryPrimitives.ReadUInt64LittleEndian(entry[Layout.ExtendedKeyOffset..]));
            }
            else
            {
                id.Clear();
                entry.Slice(Layout.HostIdOffset, 8).CopyTo(id[8..]);
                registrants[i] = new ReservationRegistrant(cntlid, holds, new Guid(id, bigEndian: true), BinaryPrimitives.ReadUInt64LittleEndian(entry[Layout.KeyOffset..]));
            }
        }

        return new ReservationReport(
            BinaryPrimitives.ReadUInt32LittleEndian(data[Layout.GenerationOffset..]),
            (ReservationType)data[Layout.TypeOffset],
            data[Layout.PersistThroughPowerLossOffset] != 0,
            registrants,
            count);
    }
}
