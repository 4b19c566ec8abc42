namespace NvmeTcp.Target;

/// <summary>
/// A rule the host broke, answered by a C2HTermReq and closing the connection (a reserved field in
/// <see cref="NvmeReservedFieldCheck.Record"/> mode is only recorded; a limit reached closes without a C2HTermReq). The
/// target keeps every one in <see cref="NvmeTargetTestHooks.Violations"/> so that tests can assert on them.
/// </summary>
/// <param name="QueueId">The queue of the connection (0 for the admin queue, -1 before Connect).</param>
/// <param name="Rule">
/// The rule's name: a codec rule (<c>HeaderLength</c>, <c>DataOffsetAlignment</c>, <c>HeaderDigest</c>,
/// <c>HeaderDigestFlag</c>, <c>DataDigestFlag</c>, <c>UnknownType</c>, <c>DataLengthOverMaxH2CData</c>, ...) or a
/// connection-state rule (<c>DuplicateCid</c>, <c>SubmissionQueueOverrun</c>, <c>UnexpectedH2CData</c>, <c>H2CDataTag</c>, <c>H2CDataOffset</c>,
/// <c>H2CDataLast</c>, <c>ConnectionClosedMidPdu</c>), or a limit the host reached (<c>IcReqTimeout</c>,
/// <c>PduTimeout</c>, <c>SendTimeout</c>: the connection is closed without a C2HTermReq, FES and FEI 0).
/// </param>
/// <param name="Fes">FES of the C2HTermReq sent (NVMe/TCP 3.6.2.5).</param>
/// <param name="Fei">FEI of the C2HTermReq sent: the offending field's byte offset, or the received header digest.</param>
/// <param name="PduType">PDU-Type byte of the offending PDU.</param>
/// <param name="Message">A description for logs.</param>
public sealed record NvmeTargetViolation(int QueueId, string Rule, int Fes, uint Fei, byte PduType, string Message);
