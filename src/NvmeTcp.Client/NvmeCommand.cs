using NvmeTcp.Protocol;

namespace NvmeTcp.Client;

/// <summary>
/// A raw command for passthrough, as nvme-cli's <c>admin-passthru</c> and <c>io-passthru</c> take it: the SQE fields a
/// caller may set. The CID, PSDT and the data pointer (SGL) are the transport's and are set when it is sent.
/// </summary>
public struct NvmeCommand : IEquatable<NvmeCommand>
{
    /// <summary>OPC.</summary>
    public byte Opcode { get; set; }

    /// <summary>FUSE (bits 0-1 of byte 1); PSDT is set by the transport.</summary>
    public byte Fuse { get; set; }

    /// <summary>NSID.</summary>
    public uint NamespaceId { get; set; }

    /// <summary>Command dword 2.</summary>
    public uint Cdw2 { get; set; }

    /// <summary>Command dword 3.</summary>
    public uint Cdw3 { get; set; }

    /// <summary>MPTR (metadata pointer).</summary>
    public ulong MetadataPointer { get; set; }

    /// <summary>Command dword 10.</summary>
    public uint Cdw10 { get; set; }

    /// <summary>Command dword 11.</summary>
    public uint Cdw11 { get; set; }

    /// <summary>Command dword 12.</summary>
    public uint Cdw12 { get; set; }

    /// <summary>Command dword 13.</summary>
    public uint Cdw13 { get; set; }

    /// <summary>Command dword 14.</summary>
    public uint Cdw14 { get; set; }

    /// <summary>Command dword 15.</summary>
    public uint Cdw15 { get; set; }

    internal readonly Sqe ToSqe()
    {
        var sqe = default(Sqe);
        sqe.Opcode = Opcode;
        sqe.Flags = (byte)(Fuse & 0x3);
        sqe.Nsid = NamespaceId;
        sqe.WriteUInt32(8, Cdw2);
        sqe.WriteUInt32(12, Cdw3);
        sqe.WriteUInt64(16, MetadataPointer);
        sqe.Cdw10 = Cdw10;
        sqe.Cdw11 = Cdw11;
        sqe.Cdw12 = Cdw12;
        sqe.Cdw13 = Cdw13;
        sqe.Cdw14 = Cdw14;
        sqe.Cdw15 = Cdw15;
        return sqe;
    }

    /// <inheritdoc/>
    public readonly bool Equals(NvmeCommand other) =>
        Opcode == other.Opcode && Fuse == other.Fuse && NamespaceId == other.NamespaceId && Cdw2 == other.Cdw2 && Cdw3 == other.Cdw3
        && MetadataPointer == other.MetadataPointer && Cdw10 == other.Cdw10 && Cdw11 == other.Cdw11 && Cdw12 == other.Cdw12
        && Cdw13 == other.Cdw13 && Cdw14 == other.Cdw14 && Cdw15 == other.Cdw15;

    /// <inheritdoc/>
    public override readonly bool Equals(object? obj) => obj is NvmeCommand other && Equals(other);

    /// <inheritdoc/>
    public override readonly int GetHashCode() => HashCode.Combine(Opcode, NamespaceId, Cdw10, Cdw11, Cdw12, Cdw13, Cdw14, Cdw15);

    /// <summary>Equality of every field.</summary>
    public static bool operator ==(NvmeCommand left, NvmeCommand right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(NvmeCommand left, NvmeCommand right) => !left.Equals(right);
}

/// <summary>What a controller returned for a command: CQE dwords 0 and 1 and the status (always success when returned; failures throw).</summary>
/// <param name="Dword0">Command-specific dword 0.</param>
/// <param name="Dword1">Command-specific dword 1.</param>
/// <param name="Status">The status field.</param>
public readonly record struct NvmeCompletion(uint Dword0, uint Dword1, NvmeStatus Status);
