using NvmeTcp.Protocol;

namespace NvmeTcp.Protocol.Admin;

/// <summary>
/// Admin commands without a data transfer (NVMe Base 2.0 "Keep Alive command", "Asynchronous Event
/// Request command", "Abort command") (SGL1 a transport data block of length 0):
/// <code>
/// Keep Alive                  opcode 0x18  no fields
/// Asynchronous Event Request  opcode 0x0C  no fields; completes when an event occurs
/// Abort                       opcode 0x08  CDW10 bits 0-15 SQID, bits 16-31 CID
/// </code>
/// </summary>
public static class AdminCommands
{
    /// <summary>Keep Alive: resets the controller's keep alive timer.</summary>
    public static Sqe KeepAlive() => NoData(AdminOpcode.KeepAlive);

    /// <summary>Asynchronous Event Request: stays outstanding until the controller reports an event in CQE DW0.</summary>
    public static Sqe AsynchronousEventRequest() => NoData(AdminOpcode.AsynchronousEventRequest);

    /// <summary>Abort of command <paramref name="commandId"/> on submission queue <paramref name="submissionQueueId"/>.</summary>
    /// <remarks>CQE DW0 bit 0 clear means the command was aborted; set means it was not.</remarks>
    public static Sqe Abort(ushort submissionQueueId, ushort commandId)
    {
        var sqe = NoData(AdminOpcode.Abort);
        sqe.Cdw10 = submissionQueueId | ((uint)commandId << 16);
        return sqe;
    }

    private static Sqe NoData(AdminOpcode opcode)
    {
        var sqe = Sqe.Create((byte)opcode);
        DataPointer.SetTransport(ref sqe, 0);
        return sqe;
    }
}
