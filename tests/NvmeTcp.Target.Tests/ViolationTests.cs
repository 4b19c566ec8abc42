using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Nvm;
using NvmeTcp.Protocol;

namespace NvmeTcp.Target.Tests;

/// <summary>Each host-side violation is answered with a C2HTermReq carrying the right FES/FEI, counted, and the connection closed.</summary>
public class ViolationTests
{
    [Fact]
    public async Task Bad_hlen()
    {
        await using var target = await TestTargets.StartAsync();
        await using var host = await RawHost.ConnectAsync(target.EndPoint);
        var pdu = host.EncodeCommand(AdminCommands.KeepAlive());
        pdu[2] = 71;
        await ExpectTermAsync(target, host, pdu, FatalErrorStatus.InvalidHeaderField, 2, "HeaderLength");
    }

    [Fact]
    public async Task Misaligned_pdo()
    {
        await using var target = await TestTargets.StartAsync();
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _1 = admin;
        await using var io = await RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, cntlid);
        var sqe = ReadWriteCommands.Write(1, 0, 1, 512).InCapsule();
        sqe.Cid = 9;
        var pdu = io.EncodeCommand(sqe, new byte[512]);
        pdu[3] = 74;
        await ExpectTermAsync(target, io, pdu, FatalErrorStatus.InvalidHeaderField, 3, "DataOffsetAlignment");
    }

    [Fact]
    public async Task Header_digest_flag_missing()
    {
        await using var target = await TestTargets.StartAsync();
        await using var host = await RawHost.ConnectAsync(target.EndPoint, DigestTypes.Header);
        var pdu = host.EncodeCommand(AdminCommands.KeepAlive());
        pdu[1] &= unchecked((byte)~(byte)PduFlags.HeaderDigest);
        Crc32C.Write(pdu.AsSpan(CapsuleCmdPdu.HeaderLength), Crc32C.Compute(pdu.AsSpan(0, CapsuleCmdPdu.HeaderLength)));
        await ExpectTermAsync(target, host, pdu, FatalErrorStatus.InvalidHeaderField, 1, "HeaderDigestFlag");
    }

    [Fact]
    public async Task Header_digest_wrong()
    {
        await using var target = await TestTargets.StartAsync();
        await using var host = await RawHost.ConnectAsync(target.EndPoint, DigestTypes.Header);
        var pdu = host.EncodeCommand(AdminCommands.KeepAlive());
        pdu[CapsuleCmdPdu.HeaderLength] ^= 0x01;
        var received = Crc32C.Read(pdu.AsSpan(CapsuleCmdPdu.HeaderLength));
        await ExpectTermAsync(target, host, pdu, FatalErrorStatus.HeaderDigestError, received, "HeaderDigest");
    }

    [Fact]
    public async Task Unsolicited_h2c_data()
    {
        await using var target = await TestTargets.StartAsync();
        await using var host = await RawHost.ConnectAsync(target.EndPoint);
        var pdu = host.EncodeH2CData(99, 0, 0, new byte[512], last: true);
        await ExpectTermAsync(target, host, pdu, FatalErrorStatus.InvalidHeaderField, 8, "UnexpectedH2CData");
    }

    [Fact]
    public async Task H2C_data_over_maxh2cdata()
    {
        var options = TestTargets.Options();
        options.MaxH2CData = 4096;
        await using var target = await TestTargets.StartAsync(options);
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _1 = admin;
        await using var io = await RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, cntlid);
        var sqe = ReadWriteCommands.Write(1, 0, 16, 8192);
        sqe.Cid = 5;
        await io.SendAsync(io.EncodeCommand(sqe));
        var r2t = (await io.ReceiveAsync()).Header.R2T;
        Assert.Equal(8192u, r2t.R2tl);
        var pdu = io.EncodeH2CData(5, r2t.Ttag, 0, new byte[8192], last: true);
        await ExpectTermAsync(target, io, pdu, FatalErrorStatus.LimitExceeded, 16, "DataLengthOverMaxH2CData");
    }

    [Fact]
    public async Task H2C_data_with_wrong_offset()
    {
        await using var target = await TestTargets.StartAsync();
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _1 = admin;
        await using var io = await RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, cntlid);
        var sqe = ReadWriteCommands.Write(1, 0, 16, 8192);
        sqe.Cid = 6;
        await io.SendAsync(io.EncodeCommand(sqe));
        var r2t = (await io.ReceiveAsync()).Header.R2T;
        var pdu = io.EncodeH2CData(6, r2t.Ttag, 4096, new byte[4096], last: true);

        // Not contiguous with what came before: a PDU Sequence Error (NVMe/TCP 3.3.2.2), not a transfer out of range.
        await ExpectTermAsync(target, io, pdu, FatalErrorStatus.PduSequenceError, 12, "H2CDataOffset");
    }

    [Fact]
    public async Task H2C_data_over_maxh2cdata_larger_than_any_capsule_is_a_limit_exceeded()
    {
        // MAXH2CDATA (128 KiB by default) above every in-capsule size: the PDU is still checked against MAXH2CDATA
        // (FES 05h, Data Transfer Limit Exceeded), not refused as a PDU too large (FES 01h).
        await using var target = await TestTargets.StartAsync(TestTargets.Options(s => s.Mdts = 6));
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _1 = admin;
        await using var io = await RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, cntlid);
        var sqe = ReadWriteCommands.Write(1, 0, 512, 256 * 1024);
        sqe.Cid = 7;
        await io.SendAsync(io.EncodeCommand(sqe));
        var r2t = (await io.ReceiveAsync()).Header.R2T;
        Assert.Equal(256u * 1024, r2t.R2tl);
        var pdu = io.EncodeH2CData(7, r2t.Ttag, 0, new byte[(128 * 1024) + 4], last: false);
        await ExpectTermAsync(target, io, pdu, FatalErrorStatus.LimitExceeded, 16, "DataLengthOverMaxH2CData");
    }

    [Fact]
    public async Task Unknown_pdu_type()
    {
        await using var target = await TestTargets.StartAsync();
        await using var host = await RawHost.ConnectAsync(target.EndPoint);
        byte[] pdu = [0x0C, 0, 24, 0, 24, 0, 0, 0, .. new byte[16]];
        await ExpectTermAsync(target, host, pdu, FatalErrorStatus.InvalidHeaderField, 0, "UnknownType");
    }

    [Fact]
    public async Task Capsule_before_icreq()
    {
        await using var target = await TestTargets.StartAsync();
        await using var host = await RawHost.OpenAsync(target.EndPoint);
        var pdu = host.EncodeCommand(AdminCommands.KeepAlive());
        await ExpectTermAsync(target, host, pdu, FatalErrorStatus.PduSequenceError, 0, "UnexpectedPdu");
    }

    [Fact]
    public async Task Duplicate_cid()
    {
        // A real duplicate: a write waiting for its data (R2T sent) and a second command with its CID.
        await using var target = await TestTargets.StartAsync();
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _1 = admin;
        await using var io = await RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, cntlid);
        var write = ReadWriteCommands.Write(1, 0, 16, 8192);
        write.Cid = 0x77;
        await io.SendAsync(io.EncodeCommand(write));
        Assert.Equal(PduType.R2T, (await io.ReceiveAsync()).Header.Type);
        var read = ReadWriteCommands.Read(1, 0, 1, 512);
        read.Cid = 0x77;
        await ExpectTermAsync(target, io, io.EncodeCommand(read), FatalErrorStatus.InvalidHeaderField, 10, "DuplicateCid");
    }

    [Fact]
    public async Task Reserved_bytes_are_not_checked_by_default()
    {
        // NVMe Base 2.0, 1.5 (Reserved): a receiver does not check reserved fields. Byte 100 of the ICReq and bytes
        // 20-23 of an H2CData are reserved.
        await using var target = await TestTargets.StartAsync();
        await using var host = await RawHost.OpenAsync(target.EndPoint);
        var icreq = new byte[IcReqPdu.Length];
        new IcReqPdu(0, 0, DigestTypes.None, 0).Encode(icreq);
        icreq[100] = 1;
        await host.SendAsync(icreq);
        var icresp = await host.ReceiveAsync();
        Assert.Equal(PduType.ICResp, icresp.Header.Type);
        host.Codec = host.Codec.AfterInitialize(IcReqPdu.Read(icreq), icresp.Header.IcResp);
        var (connect, _) = await host.ConnectAdminAsync(TestTargets.Nqn);
        Assert.True(connect.Status.IsSuccess);
        Assert.Empty(target.Testing.Violations);
    }

    [Fact]
    public async Task Strict_oracle_records_a_reserved_byte_and_keeps_the_connection()
    {
        var options = TestTargets.Options();
        options.ReservedFields = NvmeReservedFieldCheck.Record;
        await using var target = await TestTargets.StartAsync(options);
        await using var host = await RawHost.OpenAsync(target.EndPoint);
        var icreq = new byte[IcReqPdu.Length];
        new IcReqPdu(0, 0, DigestTypes.None, 0).Encode(icreq);
        icreq[100] = 1;
        await host.SendAsync(icreq);
        var icresp = await host.ReceiveAsync();
        Assert.Equal(PduType.ICResp, icresp.Header.Type);
        host.Codec = host.Codec.AfterInitialize(IcReqPdu.Read(icreq), icresp.Header.IcResp);
        var (connect, _) = await host.ConnectAdminAsync(TestTargets.Nqn);
        Assert.True(connect.Status.IsSuccess);
        var violation = Assert.Single(target.Testing.Violations);
        Assert.Equal(("ReservedField", 1, 100u), (violation.Rule, violation.Fes, violation.Fei));
    }

    [Fact]
    public async Task Strict_oracle_asked_to_terminates_on_a_reserved_byte()
    {
        var options = TestTargets.Options();
        options.ReservedFields = NvmeReservedFieldCheck.Terminate;
        await using var target = await TestTargets.StartAsync(options);
        await using var host = await RawHost.OpenAsync(target.EndPoint);
        var icreq = new byte[IcReqPdu.Length];
        new IcReqPdu(0, 0, DigestTypes.None, 0).Encode(icreq);
        icreq[100] = 1;
        await ExpectTermAsync(target, host, icreq, FatalErrorStatus.InvalidHeaderField, 100, "ReservedField");
    }

    private static async Task ExpectTermAsync(NvmeTcpTarget target, RawHost host, byte[] pdu, FatalErrorStatus fes, uint fei, string rule)
    {
        var before = target.Testing.Violations.Count;
        await host.SendAsync(pdu);
        var term = await host.ReceiveAsync();
        Assert.Equal(PduType.C2HTermReq, term.Header.Type);
        Assert.Equal(fes, term.Header.TermReq.Fes);
        Assert.Equal(fei, term.Header.TermReq.Fei);
        var hlen = Math.Min(Math.Max((int)pdu[2], 8), 128);
        Assert.Equal(pdu.AsSpan(0, Math.Min(hlen, pdu.Length)).ToArray(), term.Data);
        Assert.True(await host.WaitClosedAsync());
        var violation = Assert.Single(target.Testing.Violations.Skip(before));
        Assert.Equal(rule, violation.Rule);
        Assert.Equal((int)fes, violation.Fes);
        Assert.Equal(fei, violation.Fei);
        Assert.Equal(pdu[0], violation.PduType);
    }
}
