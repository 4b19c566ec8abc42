using System.Buffers.Binary;
using System.Text;
using NvmeTcp.Protocol;
using static NvmeTcp.Client.Tests.Protocol.PduTestKit;

namespace NvmeTcp.Client.Tests.Protocol;

/// <summary>
/// PDUs exactly as Linux sent them (TestData/pdu/README.md says where each came from): each decodes as Done with the
/// fields tshark shows, and our encoders rebuild it byte for byte. "linux61" files have no digests; "linux612-digests"
/// files have header and data digests (tshark checked every one as Good).
/// </summary>
public class GoldenCaptureTests
{
    private static PduCodecOptions HostOptions(bool digests) => Host(digests, digests);

    private static PduCodecOptions ControllerOptions(bool digests) => Controller(digests, digests);

    private static string Prefix(bool digests) => digests ? "linux612-digests-" : "linux61-";

    /// <summary>Decodes whole and as it arrives (the header alone, a byte at a time); both must agree.</summary>
    private static (ReceivedHeader Header, byte[] Data) DecodeDone(byte[] pdu, PduCodecOptions options)
    {
        var status = PduDecoder.TryDecode(pdu, options, out var header, out var data, out var error);
        Assert.True(status == DecodeStatus.Done, $"{status}: {error}");
        Assert.Equal(pdu.Length, header.Length);

        var grown = DecodeHeaderGrowing(pdu, options);
        Assert.True(grown.Status == DecodeStatus.Done, $"{grown.Status}: {grown.Error}");
        Assert.Equal(header.Common, grown.Header.Common);
        return (header, data.ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ICReq_decodes_and_reencodes(bool digests)
    {
        var pdu = Load(Prefix(digests) + "icreq.bin");
        var options = PduCodecOptions.ControllerBeforeInitialize(MaxData);

        var (header, data) = DecodeDone(pdu, options);

        // tshark: PFV 0, HPDA 0, DGST 0 (6.1) or 3 (6.12), MAXR2T 0.
        Assert.Equal(new PduHeader(PduType.ICReq, PduFlags.None, 128, 0, 128), header.Common);
        Assert.Empty(data);
        var expected = new IcReqPdu(0, 0, digests ? DigestTypes.Header | DigestTypes.Data : DigestTypes.None, 0);
        Assert.Equal(expected, header.IcReq);
        Assert.Equal(pdu, IcReq(expected));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ICResp_decodes_and_reencodes_and_yields_the_negotiated_options(bool digests)
    {
        var pdu = Load(Prefix(digests) + "icresp.bin");
        var options = PduCodecOptions.HostBeforeInitialize(MaxData) with { CheckReserved = true };

        var (header, _) = DecodeDone(pdu, options);

        // tshark: PFV 0, CPDA 0, DGST as asked, MAXH2CDATA 4194304.
        var digestTypes = digests ? DigestTypes.Header | DigestTypes.Data : DigestTypes.None;
        var expected = new IcRespPdu(0, 0, digestTypes, 4194304);
        Assert.Equal(new PduHeader(PduType.ICResp, PduFlags.None, 128, 0, 128), header.Common);
        Assert.Equal(expected, header.IcResp);
        Assert.Equal(pdu, IcResp(expected));

        var request = Load(Prefix(digests) + "icreq.bin");
        var icReq = IcReqPdu.Read(request);
        Assert.True(expected.IsAcceptableFor(icReq, out _));
        Assert.Equal(HostOptions(digests), options.AfterInitialize(icReq, expected));
        Assert.Equal(
            ControllerOptions(digests),
            PduCodecOptions.ControllerBeforeInitialize(MaxData).AfterInitialize(icReq, expected));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Admin_Connect_with_1024_bytes_of_in_capsule_data(bool digests)
    {
        var pdu = Load(Prefix(digests) + "capsulecmd-connect-admin.bin");
        var options = ControllerOptions(digests);

        var (header, data) = DecodeDone(pdu, options);

        // 6.1: flags 0, PDO 72, PLEN 1096. 6.12: flags HDGSTF|DDGSTF, PDO 76, PLEN 1104; HDGST 0x50910eff, DDGST 0x84521f9e
        // as tshark prints them: the wire bytes in order, i.e. read big-endian (the CRCs are stored little-endian).
        Assert.Equal(
            digests ? new PduHeader(PduType.CapsuleCmd, PduFlags.HeaderDigest | PduFlags.DataDigest, 72, 76, 1104)
                    : new PduHeader(PduType.CapsuleCmd, PduFlags.None, 72, 72, 1096),
            header.Common);
        if (digests)
        {
            Assert.Equal(0x50910effu, BinaryPrimitives.ReadUInt32BigEndian(pdu.AsSpan(72)));
            Assert.Equal(0x84521f9eu, BinaryPrimitives.ReadUInt32BigEndian(pdu.AsSpan(1100)));
        }

        // Connect: OPC 0x7F, byte 1 0x40, CID 0, FCTYPE 1, SGL data block offset (0x01) of 1024 bytes,
        // RECFMT 0, QID 0, SQSIZE 31, CATTR 0, KATO 5000.
        var sqe = header.Sqe;
        Assert.Equal(0x7F, sqe.Opcode);
        Assert.Equal(Sqe.PsdtSgl, sqe.Flags);
        Assert.Equal(0, sqe.Cid);
        Assert.Equal(1, sqe.FabricsCommandType);
        Assert.Equal(0x01, sqe.SglType);
        Assert.Equal(1024u, sqe.SglLength);
        Assert.Equal(0u, sqe.Cdw10);
        Assert.Equal(31u, sqe.Cdw11);
        Assert.Equal(5000u, sqe.Cdw12);

        // Connect data: CNTLID 0xFFFF, SUBNQN at 256, HOSTNQN at 512.
        Assert.Equal(1024, data.Length);
        Assert.Equal(0xFFFF, BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(16)));
        Assert.StartsWith("nqn.2026-11.dev.nvmetcp:test\0", Encoding.ASCII.GetString(data, 256, 256), StringComparison.Ordinal);
        Assert.StartsWith("nqn.2014-08.org.nvmexpress:uuid:5c0e4a52-0000-4000-8000-0000000000aa\0", Encoding.ASCII.GetString(data, 512, 256), StringComparison.Ordinal);

        var rebuilt = default(Sqe);
        rebuilt.Opcode = 0x7F;
        rebuilt.Flags = Sqe.PsdtSgl;
        rebuilt.FabricsCommandType = 1;
        rebuilt.SglLength = 1024;
        rebuilt.SglType = 0x01;
        rebuilt.Cdw11 = 31;
        rebuilt.Cdw12 = 5000;
        Assert.Equal(pdu, CapsuleCmd(rebuilt, data, options));
    }

    /// <summary>Commands without data, and the in-capsule 4 KiB write; each SQE is rebuilt from the fields alone.</summary>
    [Theory]
    // Property Get CAP: FCTYPE 4 (in the NSID dword), ATTRIB 1 (8 bytes), OFST 0, SGL 0x5A of length 0.
    [InlineData(false, "capsulecmd-property-get-cap.bin", 0x7F, 1, 4u, 0u, 0x5A, 1u, 0u, 0u, 0)]
    [InlineData(true, "capsulecmd-property-get-cap.bin", 0x7F, 1, 4u, 0u, 0x5A, 1u, 0u, 0u, 0)]
    // Identify Controller: CNS 1, 4096 bytes by C2HData (SGL 0x5A).
    [InlineData(false, "capsulecmd-identify-ctrl.bin", 0x06, 2, 0u, 4096u, 0x5A, 1u, 0u, 0u, 0)]
    [InlineData(true, "capsulecmd-identify-ctrl.bin", 0x06, 22, 0u, 4096u, 0x5A, 1u, 0u, 0u, 0)]
    // Read of 4 KiB from namespace 1 (512-byte LBAs): SLBA 0, NLB 7 (0's based).
    [InlineData(false, "capsulecmd-read.bin", 0x02, 1, 1u, 4096u, 0x5A, 0u, 0u, 7u, 0)]
    [InlineData(true, "capsulecmd-read.bin", 0x02, 34, 1u, 4096u, 0x5A, 0u, 0u, 7u, 0)]
    // In-capsule 4 KiB write (SGL 0x01): 6.1 to namespace 1 (NLB 7), 6.12 to namespace 2 (4096-byte LBAs, NLB 0).
    [InlineData(false, "capsulecmd-write-4k.bin", 0x01, 6, 1u, 4096u, 0x01, 0u, 0u, 7u, 4096)]
    [InlineData(true, "capsulecmd-write-4k.bin", 0x01, 37, 2u, 4096u, 0x01, 0u, 0u, 0u, 4096)]
    public void CapsuleCmd_decodes_and_reencodes(bool digests, string file, byte opcode, ushort cid, uint nsid, uint sglLength, byte sglType, uint cdw10, uint cdw11, uint cdw12, int dataLength)
    {
        var pdu = Load(Prefix(digests) + file);
        var options = ControllerOptions(digests);

        var (header, data) = DecodeDone(pdu, options);

        var hd = digests ? 4 : 0;
        var flags = digests ? PduFlags.HeaderDigest : PduFlags.None;
        var expectedHeader = dataLength == 0
            ? new PduHeader(PduType.CapsuleCmd, flags, 72, 0, (uint)(72 + hd))
            : new PduHeader(PduType.CapsuleCmd, digests ? flags | PduFlags.DataDigest : flags, 72, (byte)(72 + hd), (uint)(72 + hd + dataLength + hd));
        Assert.Equal(expectedHeader, header.Common);
        Assert.Equal(dataLength, data.Length);

        var sqe = default(Sqe);
        sqe.Opcode = opcode;
        sqe.Flags = Sqe.PsdtSgl;
        sqe.Cid = cid;
        sqe.Nsid = nsid;
        sqe.SglLength = sglLength;
        sqe.SglType = sglType;
        sqe.Cdw10 = cdw10;
        sqe.Cdw11 = cdw11;
        sqe.Cdw12 = cdw12;
        var decoded = header.Sqe;
        Assert.True(((ReadOnlySpan<byte>)sqe).SequenceEqual(decoded));
        Assert.Equal(pdu, CapsuleCmd(sqe, data, options));
    }

    [Theory]
    // Connect: DW0 = CNTLID 1, SQHD 1.
    [InlineData(false, "capsuleresp-connect.bin", 1u, 1, 0)]
    [InlineData(true, "capsuleresp-connect.bin", 1u, 1, 0)]
    // Identify: SQHD 9 (6.1) or 8 (6.12).
    [InlineData(false, "capsuleresp-identify-ctrl.bin", 0u, 9, 2)]
    [InlineData(true, "capsuleresp-identify-ctrl.bin", 0u, 8, 22)]
    public void CapsuleResp_decodes_and_reencodes(bool digests, string file, uint dw0, ushort sqhd, ushort cid)
    {
        var pdu = Load(Prefix(digests) + file);
        var options = HostOptions(digests);

        var (header, _) = DecodeDone(pdu, options);

        Assert.Equal(new PduHeader(PduType.CapsuleResp, digests ? PduFlags.HeaderDigest : PduFlags.None, 24, 0, digests ? 28u : 24u), header.Common);
        var cqe = new Cqe(dw0, 0, sqhd, 0, cid, NvmeStatus.Success);
        Assert.Equal(cqe, header.Cqe);
        Assert.Equal(pdu, CapsuleResp(cqe, options));
    }

    [Theory]
    [InlineData(false, "c2hdata-identify-ctrl.bin", 2, 4096, 0u, 0u)]
    [InlineData(true, "c2hdata-identify-ctrl.bin", 22, 4096, 0xa7b427beu, 0x8599439du)]
    [InlineData(false, "c2hdata-log-page-512.bin", 5, 512, 0u, 0u)]
    [InlineData(true, "c2hdata-log-page-512.bin", 25, 512, 0x7af91a6bu, 0xc0edfc30u)]
    [InlineData(false, "c2hdata-read.bin", 1, 4096, 0u, 0u)]
    [InlineData(true, "c2hdata-read.bin", 34, 4096, 0x8d614942u, 0x8941f998u)]
    public void C2HData_decodes_verifies_and_reencodes(bool digests, string file, ushort cccid, int length, uint hdgst, uint ddgst)
    {
        var pdu = Load(Prefix(digests) + file);
        var options = HostOptions(digests);

        var (header, data) = DecodeDone(pdu, options);

        // nvmet: one C2HData per command, LAST_PDU without SUCCESS (a CapsuleResp follows), DATAO 0.
        var hd = digests ? 4 : 0;
        var flags = PduFlags.LastPdu | (digests ? PduFlags.HeaderDigest | PduFlags.DataDigest : PduFlags.None);
        Assert.Equal(new PduHeader(PduType.C2HData, flags, 24, (byte)(24 + hd), (uint)(24 + hd + length + hd)), header.Common);
        Assert.Equal(new C2HDataPdu(cccid, 0, (uint)length, true, false), header.C2HData);
        Assert.Equal(length, data.Length);
        if (digests)
        {
            // The digests tshark printed, where the layout puts them. tshark prints the four wire bytes in order
            // (as a big-endian number); the CRC itself is stored little-endian, which the Done above verified.
            Assert.Equal(hdgst, BinaryPrimitives.ReadUInt32BigEndian(pdu.AsSpan(24)));
            Assert.Equal(ddgst, BinaryPrimitives.ReadUInt32BigEndian(pdu.AsSpan(28 + length)));
        }

        Assert.Equal(pdu, C2HData(new C2HDataPdu(cccid, 0, 0, true, false), data, options));
    }

    [Fact]
    public void Identify_controller_data_is_what_tshark_shows()
    {
        var (_, data) = DecodeDone(Load("linux612-digests-c2hdata-identify-ctrl.bin"), HostOptions(true));

        Assert.Equal("0123456789abcdef", Encoding.ASCII.GetString(data, 4, 20).TrimEnd());
        Assert.Equal("nvmetvm", Encoding.ASCII.GetString(data, 24, 40).TrimEnd());
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(78)));
        Assert.Equal(0x00010300u, BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(80)));
    }

    [Theory]
    [InlineData("capsulecmd-connect-admin.bin", true)]
    [InlineData("capsulecmd-write-4k.bin", true)]
    [InlineData("c2hdata-identify-ctrl.bin", false)]
    [InlineData("c2hdata-read.bin", false)]
    public void A_flipped_data_bit_is_a_data_digest_error_with_the_length_still_known(string file, bool fromHost)
    {
        var pdu = Load(Prefix(true) + file);
        pdu[pdu[3] + 100] ^= 0x10;
        var options = fromHost ? ControllerOptions(true) : HostOptions(true);

        Assert.Equal(DecodeStatus.DataDigestError, PduDecoder.TryDecode(pdu, options, out var header, out _, out _));
        Assert.Equal(pdu.Length, header.Length);
    }
}
