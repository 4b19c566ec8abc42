using System.Buffers.Binary;
using System.Text;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Protocol.Fabrics;

/// <summary>
/// Connect (FCTYPE 0x01) (NVMe-oF 1.1 "Connect Command and Response"; Linux
/// <c>struct nvmf_connect_command</c>).
/// <code>
/// byte 0      opcode 0x7F
/// byte 4      FCTYPE 0x01
/// byte 24-39  SGL1   data block, offset subtype (0x01), length 1024: the Connect data rides in the capsule
/// byte 40-41  RECFMT record format, 0
/// byte 42-43  QID    0 for the admin queue
/// byte 44-45  SQSIZE 0's based submission queue size (0 is invalid)
/// byte 46     CATTR  connect attributes (<see cref="ConnectAttributes"/>)
/// byte 48-51  KATO   keep alive timeout in ms (admin queue; reserved on I/O queues)
/// </code>
/// On success CQE DW0 bits 0-15 hold the CNTLID and bits 16-31 AUTHREQ.
/// </summary>
public static class ConnectCommand
{
    /// <summary>Byte offset of RECFMT.</summary>
    public const int RecordFormatOffset = 40;

    /// <summary>Byte offset of QID.</summary>
    public const int QueueIdOffset = 42;

    /// <summary>Byte offset of SQSIZE.</summary>
    public const int SqSizeOffset = 44;

    /// <summary>Byte offset of CATTR.</summary>
    public const int AttributesOffset = 46;

    /// <summary>Byte offset of KATO.</summary>
    public const int KeepAliveTimeoutOffset = 48;

    /// <summary>Connect for queue <paramref name="queueId"/>, with the Connect data in the capsule.</summary>
    /// <param name="queueId">QID: 0 for the admin queue.</param>
    /// <param name="queueSize">Entries in the submission queue, 2 to 65536; written 0's based.</param>
    /// <param name="attributes">CATTR.</param>
    /// <param name="keepAliveTimeoutMs">KATO in ms; 0 disables keep alive. Only meaningful on the admin queue.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="queueSize"/> outside 2..65536.</exception>
    public static Sqe Create(ushort queueId, int queueSize, ConnectAttributes attributes = ConnectAttributes.None, uint keepAliveTimeoutMs = 0)
    {
        // SQSIZE 0 (one entry) is invalid: a queue needs room for at least one command and one free slot.
        ArgumentOutOfRangeException.ThrowIfLessThan(queueSize, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(queueSize, 65536);

        var sqe = FabricsCommand.Create(FabricsCommandType.Connect);
        DataPointer.SetInCapsule(ref sqe, ConnectData.Size);
        sqe.WriteUInt16(RecordFormatOffset, 0);
        sqe.WriteUInt16(QueueIdOffset, queueId);
        sqe.WriteUInt16(SqSizeOffset, (ushort)(queueSize - 1));
        sqe[AttributesOffset] = (byte)attributes;
        sqe.WriteUInt32(KeepAliveTimeoutOffset, keepAliveTimeoutMs);
        return sqe;
    }
}

/// <summary>CATTR, byte 46 of Connect (NVMe-oF 1.1 "Connect Command - Submission Queue Entry" and later TPs).</summary>
[Flags]
public enum ConnectAttributes : byte
{
    /// <summary>No attributes: Linux's value.</summary>
    None = 0,

    /// <summary>Bit 2: disable SQ flow control (granted when the Connect CQE carries SQHD 0xFFFF).</summary>
    DisableSqFlowControl = 1 << 2,

    /// <summary>Bit 3: the host supports deleting individual I/O queues.</summary>
    IoQueueDeletionSupported = 1 << 3,

    /// <summary>Bit 4: the connecting entity is a discovery controller.</summary>
    DiscoveryController = 1 << 4,
}

/// <summary>
/// The 1024-byte Connect data (NVMe-oF 1.1 "Connect Command - Data"; Linux <c>struct nvmf_connect_data</c>).
/// <code>
/// byte 0-15     HOSTID   host identifier, a UUID in RFC 4122 (big-endian) byte order, as Linux's uuid_t
/// byte 16-17    CNTLID   0xFFFF on the admin queue (dynamic controller model); the CNTLID returned for it on I/O queues
/// byte 18-255   reserved
/// byte 256-511  SUBNQN   UTF-8, NUL padded
/// byte 512-767  HOSTNQN  UTF-8, NUL padded
/// byte 768-1023 reserved
/// </code>
/// </summary>
public static class ConnectData
{
    /// <summary>Size of the Connect data.</summary>
    public const int Size = 1024;

    /// <summary>CNTLID to send on the admin queue: any controller, dynamic model.</summary>
    public const ushort DynamicControllerId = 0xFFFF;

    /// <summary>Longest NQN in UTF-8 bytes: <see cref="NvmeQualifiedName.MaxLength"/>.</summary>
    public const int MaxNqnLength = NvmeQualifiedName.MaxLength;

    /// <summary>Byte offset of HOSTID.</summary>
    public const int HostIdOffset = 0;

    /// <summary>Byte offset of CNTLID.</summary>
    public const int ControllerIdOffset = 16;

    /// <summary>Byte offset of SUBNQN.</summary>
    public const int SubsystemNqnOffset = 256;

    /// <summary>Byte offset of HOSTNQN.</summary>
    public const int HostNqnOffset = 512;

    /// <summary>Size of each NQN field: <see cref="NvmeQualifiedName.FieldLength"/>.</summary>
    public const int NqnFieldSize = NvmeQualifiedName.FieldLength;

    /// <summary>Writes the Connect data into the first 1024 bytes of <paramref name="destination"/>, zeroing the rest of them.</summary>
    /// <exception cref="ArgumentException">
    /// <paramref name="destination"/> is shorter than 1024 bytes, or an NQN is empty or longer than 223 UTF-8 bytes.
    /// </exception>
    public static void Write(Span<byte> destination, Guid hostId, ushort controllerId, string subsystemNqn, string hostNqn)
    {
        ArgumentNullException.ThrowIfNull(subsystemNqn);
        ArgumentNullException.ThrowIfNull(hostNqn);
        if (destination.Length < Size)
        {
            throw new ArgumentException($"The Connect data needs {Size} bytes.", nameof(destination));
        }

        CheckNqn(subsystemNqn, nameof(subsystemNqn));
        CheckNqn(hostNqn, nameof(hostNqn));

        var data = destination[..Size];
        data.Clear();

        // Linux copies its uuid_t as is; .NET's default Guid layout swaps the first three groups.
        hostId.TryWriteBytes(data.Slice(HostIdOffset, 16), bigEndian: true, out _);
        BinaryPrimitives.WriteUInt16LittleEndian(data[ControllerIdOffset..], controllerId);
        Encoding.UTF8.GetBytes(subsystemNqn, data.Slice(SubsystemNqnOffset, NqnFieldSize));
        Encoding.UTF8.GetBytes(hostNqn, data.Slice(HostNqnOffset, NqnFieldSize));
    }

    private static void CheckNqn(string nqn, string paramName)
    {
        var length = Encoding.UTF8.GetByteCount(nqn);
        if (length == 0 || length > MaxNqnLength)
        {
            throw new ArgumentException($"An NQN takes 1 to {MaxNqnLength} UTF-8 bytes; this one takes {length}.", paramName);
        }
    }
}

/// <summary>
/// Disconnect (FCTYPE 0x08) (NVMe-oF 1.1 "Disconnect Command"; libnvme <c>nvme_fabrics_type_disconnect</c>): deletes the I/O
/// queue it is sent on. Optional for controllers, and Linux never sends it (it closes the connection).
/// <code>
/// byte 0      opcode 0x7F
/// byte 4      FCTYPE 0x08
/// byte 40-41  RECFMT 0
/// </code>
/// </summary>
public static class DisconnectCommand
{
    /// <summary>A Disconnect SQE.</summary>
    public static Sqe Create() => FabricsCommand.Create(FabricsCommandType.Disconnect);
}
