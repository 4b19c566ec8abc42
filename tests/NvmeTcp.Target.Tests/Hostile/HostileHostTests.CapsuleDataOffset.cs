using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Admin;

namespace NvmeTcp.Target.Tests.Hostile;

public sealed partial class HostileHostTests
{
    /// <summary>
    /// Defect 6: a capsule with no data may carry PDO = PLEN (PDO is defined for capsules, and PLEN's data part may be
    /// empty): FreeBSD, nvmet and SPDK accept it, and a Python host sends it for every command without data.
    /// </summary>
    [Theory]
    [InlineData(DigestTypes.None)]
    [InlineData(DigestTypes.Header)]
    public async Task Capsule_without_data_and_pdo_equal_to_plen_is_accepted(DigestTypes digests)
    {
        await using var target = await TestTargets.StartAsync();
        var (admin, _) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn, digests);
        await using var _1 = admin;
        var sqe = AdminCommands.KeepAlive();
        sqe.Cid = 0x42;
        var pdu = admin.EncodeCommand(sqe);
        pdu[PduHeader.PdoOffset] = (byte)pdu.Length; // 72, or 76 with a header digest: PDO = HLEN (+ HDGST) = PLEN
        if ((digests & DigestTypes.Header) != 0)
        {
            Crc32C.Write(pdu.AsSpan(CapsuleCmdPdu.HeaderLength), Crc32C.Compute(pdu.AsSpan(0, CapsuleCmdPdu.HeaderLength)));
        }

        await admin.SendAsync(pdu);
        var response = await admin.ReceiveAsync();
        Assert.Equal(PduType.CapsuleResp, response.Header.Type);
        Assert.Equal(0x42, response.Header.Cqe.Cid);
        Assert.True(response.Header.Cqe.Status.IsSuccess);
        Assert.Empty(target.Testing.Violations);
    }

    /// <summary>Defect 6, the shared decoder: the host side accepts a CapsuleResp with PDO = PLEN as well.</summary>
    [Fact]
    public void Decoder_accepts_capsules_with_pdo_equal_to_plen_on_both_sides()
    {
        var host = PduCodecOptions.HostBeforeInitialize(4096) with { Initialized = true, CheckReserved = false };
        var response = new byte[CapsuleRespPdu.HeaderLength];
        CapsuleRespPdu.Encode(response, new Cqe(0, 0, 1, 0, 7, NvmeStatus.Success), host);
        response[PduHeader.PdoOffset] = CapsuleRespPdu.HeaderLength;
        var status = PduDecoder.TryDecodeHeader(response, host, out var decoded, out var error);
        Assert.True(status == DecodeStatus.Done, $"{status}: {error}");
        Assert.Equal(0, decoded.DataLength);

        var controller = PduCodecOptions.ControllerBeforeInitialize(4096) with { Initialized = true, CheckReserved = false };
        var command = new byte[CapsuleCmdPdu.HeaderLength];
        CapsuleCmdPdu.EncodePrefix(command, AdminCommands.KeepAlive(), 0, controller);
        command[PduHeader.PdoOffset] = CapsuleCmdPdu.HeaderLength;
        status = PduDecoder.TryDecodeHeader(command, controller, out decoded, out error);
        Assert.True(status == DecodeStatus.Done, $"{status}: {error}");
        Assert.Equal(0, decoded.DataLength);
    }
}
