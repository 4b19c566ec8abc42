using System.Buffers.Binary;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Spec;
using Layout = NvmeTcp.Protocol.Spec.ErrorLogEntryLayout;

namespace NvmeTcp.Client;

/// <summary>
/// One Error Information log entry (LID 01h; NVMe Base 2.0, Figure 205), 64 bytes laid out as
/// <see cref="ErrorLogEntryLayout"/> says. The log holds Identify Controller ELPE + 1 entries, newest first; an entry
/// with ERROR COUNT 0 is empty.
/// </summary>
/// <remarks>Parsing never fails on content.</remarks>
public sealed class NvmeErrorLogEntry
{
    /// <summary>Size of one entry.</summary>
    public const int Size = Layout.Size;

    private NvmeErrorLogEntry(ReadOnlySpan<byte> d)
    {
        ErrorCount = BinaryPrimitives.ReadUInt64LittleEndian(d[Layout.ErrorCount..]);
        Sqid = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Sqid..]);
        Cid = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Cid..]);
        StatusField = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.Status..]);
        ParameterErrorLocation = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.ParameterErrorLocation..]);
        Lba = BinaryPrimitives.ReadUInt64LittleEndian(d[Layout.Lba..]);
        Nsid = BinaryPrimitives.ReadUInt32LittleEndian(d[Layout.Nsid..]);
        Vs = d[Layout.Vs];
        Trtype = d[Layout.Trtype];
        CommandSpecific = BinaryPrimitives.ReadUInt64LittleEndian(d[Layout.CommandSpecificInformation..]);
        TransportTypeSpecific = BinaryPrimitives.ReadUInt16LittleEndian(d[Layout.TransportTypeSpecificInformation..]);
    }

    /// <summary>ERROR COUNT: the error's unique, incrementing number; 0 marks an empty entry.</summary>
    public ulong ErrorCount { get; }

    /// <summary>Whether the entry is empty (ERROR COUNT 0).</summary>
    public bool IsEmpty => ErrorCount == 0;

    /// <summary>SQID: submission queue ID of the command (FFFFh: not specific to a queue).</summary>
    public ushort Sqid { get; }

    /// <summary>CID: command ID of the command (FFFFh: not specific to a command).</summary>
    public ushort Cid { get; }

    /// <summary>STATUS: the raw 16-bit field (bit 0 the phase tag, bits 1-15 the completion's status field).</summary>
    public ushort StatusField { get; }

    /// <summary>STATUS bits 1-15 as a completion status (SCT, SC, CRD, M, DNR).</summary>
    public NvmeStatus Status => NvmeStatus.FromStatusField(StatusField);

    /// <summary>PARAMETER ERROR LOCATION: bits 0-7 the byte and bits 8-10 the bit of the command parameter in error; FFFFh when not applicable.</summary>
    public ushort ParameterErrorLocation { get; }

    /// <summary>LBA: the first LBA that had the error.</summary>
    public ulong Lba { get; }

    /// <summary>NSID: the namespace the error is associated with.</summary>
    public uint Nsid { get; }

    /// <summary>VS: vendor specific information available; the log page ID with more detail (80h-FFh), 0 for none.</summary>
    public byte Vs { get; }

    /// <summary>TRTYPE: transport type of the transport the error relates to (the discovery TRTYPE values); 0 when not transport related.</summary>
    public byte Trtype { get; }

    /// <summary>COMMAND SPECIFIC INFORMATION: defined by the failed command.</summary>
    public ulong CommandSpecific { get; }

    /// <summary>TRANSPORT TYPE SPECIFIC INFORMATION: defined by the transport in <see cref="Trtype"/>.</summary>
    public ushort TransportTypeSpecific { get; }

    /// <summary>Parses every whole 64-byte entry of an Error Information log, empty ones included; trailing bytes are ignored. Never throws.</summary>
    internal static IReadOnlyList<NvmeErrorLogEntry> ParseList(ReadOnlySpan<byte> data)
    {
        var entries = new NvmeErrorLogEntry[data.Length / Size];
        for (int i = 0; i < entries.Length; i++)
        {
            entries[i] = new NvmeErrorLogEntry(data.Slice(i * Size, Size));
        }

        return Array.AsReadOnly(entries);
    }
}
