using NvmeTcp.Protocol;
using static NvmeTcp.Client.Tests.Protocol.PduTestKit;

namespace NvmeTcp.Client.Tests.Protocol;

/// <summary>
/// Golden bytes for the PDU types the captures lack (nvmet put the 4 KiB write in-capsule and had nothing to
/// terminate), written by hand from the layouts in NVMe/TCP 3.6.2. Digests were computed independently (a bitwise
/// CRC-32C, reflected polynomial 0x82F63B78, in Python) and are stored little-endian.
/// </summary>
public class GoldenSpecTests
{
    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));

    [Fact]
    public void R2T_without_digests()
    {
        byte[] expected = Hex(
            "09 00 18 00 18000000" + // R2T, FLAGS 0, HLEN 24, PDO 0, PLEN 24
            "0500 0300" +            // CCCID 5, TTAG 3
            "00100000" +             // R2TO 0x1000
            "00000200" +             // R2TL 0x20000 (128 KiB: more than one H2CData may carry)
            "00000000");             // reserved
        var pdu = new R2TPdu(5, 3, 0x1000, 0x20000);

        Assert.Equal(expected, R2T(pdu, Host()));
        Assert.Equal(DecodeStatus.Done, PduDecoder.TryDecode(expected, Host(), out var header, out _, out _));
        Assert.Equal(pdu, header.R2T);
    }

    [Fact]
    public void R2T_with_header_digest()
    {
        byte[] expected = Hex(
            "09 01 18 00 1c000000" + // R2T, HDGSTF, HLEN 24, PDO 0, PLEN 28 (no DDGSTF: an R2T has no data)
            "0500 0300 00100000 00000200 00000000" +
            "710fdae5");             // HDGST over bytes 0-23
        var options = Host(hd: true, dd: true);
        var pdu = new R2TPdu(5, 3, 0x1000, 0x20000);

        Assert.Equal(expected, R2T(pdu, options));
        Assert.Equal(DecodeStatus.Done, PduDecoder.TryDecode(expected, options, out var header, out _, out _));
        Assert.Equal(pdu, header.R2T);
    }

    [Fact]
    public void H2CData_without_digests()
    {
        byte[] data = [1, 2, 3, 4, 5, 6, 7, 8];
        byte[] expected = Hex(
            "06 04 18 18 20000000" + // H2CData, LAST_PDU, HLEN 24, PDO 24, PLEN 32
            "0500 0300" +            // CCCID 5, TTAG 3
            "00100000" +             // DATAO 0x1000
            "08000000" +             // DATAL 8
            "00000000" +             // reserved
            "0102030405060708");     // data
        var pdu = new H2CDataPdu(5, 3, 0x1000, 8, true);

        Assert.Equal(expected, H2CData(pdu, data, Controller()));
        Assert.Equal(DecodeStatus.Done, PduDecoder.TryDecode(expected, Controller(), out var header, out var decoded, out _));
        Assert.Equal(pdu, header.H2CData);
        Assert.Equal(data, decoded.ToArray());
    }

    [Fact]
    public void H2CData_with_digests_and_a_32_byte_controller_alignment()
    {
        // CPDA 7: host-to-controller data starts at a multiple of (7 + 1) * 4 = 32 bytes.
        byte[] data = [1, 2, 3, 4, 5, 6, 7, 8];
        byte[] expected = Hex(
            "06 07 18 20 2c000000" + // H2CData, HDGSTF|DDGSTF|LAST_PDU, HLEN 24, PDO 32, PLEN 32 + 8 + 4 = 44
            "0500 0300 00100000 08000000 00000000" +
            "e1782e86" +             // HDGST over bytes 0-23
            "00000000" +             // padding to PDO 32, covered by neither digest
            "0102030405060708" +
            "811f8946");             // DDGST over the 8 data bytes only
        var options = Controller(hd: true, dd: true, controllerAlignment: 32);
        var pdu = new H2CDataPdu(5, 3, 0x1000, 8, true);

        Assert.Equal(expected, H2CData(pdu, data, options));
        Assert.Equal(DecodeStatus.Done, PduDecoder.TryDecode(expected, options, out var header, out var decoded, out _));
        Assert.Equal(pdu, header.H2CData);
        Assert.Equal(data, decoded.ToArray());
    }

    [Fact]
    public void C2HTermReq_carrying_the_offending_header()
    {
        // The host's (bad) C2HData header: SUCCESS without LAST_PDU, so FES 1, FEI 1 (FLAGS).
        byte[] offending = Hex("07 08 18 18 28000000 0100 0000 00000000 10000000 00000000");
        byte[] expected = Hex(
            "03 00 18 00 30000000" +     // C2HTermReq, FLAGS 0, HLEN 24, PDO 0 (reserved), PLEN 24 + 24
            "0100" +                     // FES 1: invalid header field
            "01000000" +                 // FEI 1: byte offset of FLAGS
            "00000000000000000000" +     // reserved, bytes 14-23
            "07 08 18 18 28000000 0100 0000 00000000 10000000 00000000");
        var pdu = new TermReqPdu(PduType.C2HTermReq, FatalErrorStatus.InvalidHeaderField, 1);

        Assert.Equal(expected, TermReq(pdu, offending));
        Assert.Equal(DecodeStatus.Done, PduDecoder.TryDecode(expected, Host(), out var header, out var data, out _));
        Assert.Equal(pdu, header.TermReq);
        Assert.Equal(offending, data.ToArray());
    }

    [Fact]
    public void H2CTermReq_for_a_header_digest_error_has_the_received_digest_as_FEI()
    {
        byte[] expected = Hex(
            "02 00 18 00 18000000" + // H2CTermReq, PLEN 24: no offending header attached
            "0300" +                 // FES 3: header digest error
            "efbeadde" +             // FEI: the HDGST received, 0xDEADBEEF
            "00000000000000000000");
        var pdu = new TermReqPdu(PduType.H2CTermReq, FatalErrorStatus.HeaderDigestError, 0xDEADBEEF);

        Assert.Equal(expected, TermReq(pdu, []));
        Assert.Equal(DecodeStatus.Done, PduDecoder.TryDecode(expected, Controller(), out var header, out var data, out _));
        Assert.Equal(pdu, header.TermReq);
        Assert.True(data.IsEmpty);
    }

    [Fact]
    public void TermReq_keeps_at_most_128_bytes_of_the_offending_PDU()
    {
        var offending = new byte[200];
        offending.AsSpan().Fill(0xAB);
        var bytes = TermReq(new TermReqPdu(PduType.C2HTermReq, FatalErrorStatus.PduSequenceError, 0), offending);

        Assert.Equal(TermReqPdu.MaxLength, bytes.Length);
        Assert.Equal(152u, BitConverter.ToUInt32(bytes, 4));
        Assert.Equal(DecodeStatus.Done, PduDecoder.TryDecode(bytes, Host(), out var header, out var data, out _));
        Assert.Equal(128, data.Length);
        Assert.False(header.IsTruncated);
    }

    [Fact]
    public void TermReq_with_PLEN_over_152_is_read_as_its_header_only()
    {
        var bytes = TermReq(new TermReqPdu(PduType.C2HTermReq, FatalErrorStatus.PduSequenceError, 0), []);
        Put32(bytes, 4, 0xFFFFFFFF);

        Assert.Equal(DecodeStatus.Done, PduDecoder.TryDecode(bytes, Host(), out var header, out var data, out _));
        Assert.True(header.IsTruncated);
        Assert.Equal(24, header.Length);
        Assert.True(data.IsEmpty);
    }

    [Fact]
    public void A_C2HTermReq_answering_a_bad_ICReq_decodes_before_the_ICResp()
    {
        // SPDK's target answers a bad ICReq (PFV, HPDA) with a C2HTermReq instead of an ICResp
        // (nvmf_tcp_icreq_handle), and the spec allows a TermReq at any time: the host must read it before
        // initialization, and a controller an H2CTermReq answering a bad ICResp.
        var c2h = TermReq(new TermReqPdu(PduType.C2HTermReq, FatalErrorStatus.InvalidHeaderField, IcReqPdu.PfvOffset), []);
        var h2c = TermReq(new TermReqPdu(PduType.H2CTermReq, FatalErrorStatus.InvalidHeaderField, IcRespPdu.MaxH2CDataOffset), []);

        Assert.Equal(DecodeStatus.Done, PduDecoder.TryDecode(c2h, PduCodecOptions.HostBeforeInitialize(MaxData), out var header, out _, out var error));
        Assert.Equal(FatalErrorStatus.InvalidHeaderField, header.TermReq.Fes);
        Assert.Equal(DecodeStatus.Done, PduDecoder.TryDecode(h2c, PduCodecOptions.ControllerBeforeInitialize(MaxData), out header, out _, out error));
        Assert.Equal((uint)IcRespPdu.MaxH2CDataOffset, header.TermReq.Fei);
        Assert.Equal(default, error);
    }
}
