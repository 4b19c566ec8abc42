using NvmeTcp.Protocol;
using static NvmeTcp.Client.Tests.Protocol.PduTestKit;

namespace NvmeTcp.Client.Tests.Protocol;

/// <summary>The host's ICResp check and the mapping from a decode error to the TermReq that reports it.</summary>
public class IcAndTermReqTests
{
    [Theory]
    [InlineData(0, 0, true)]
    [InlineData(1, 1, true)]
    [InlineData(2, 2, true)]
    [InlineData(3, 3, true)]
    [InlineData(0, 1, false)] // header digest enabled but not asked for: fatal (NVMe/TCP 3.6.2.3)
    [InlineData(0, 2, false)]
    [InlineData(1, 3, false)]
    [InlineData(3, 1, false)] // asked for both, got only one: refused, as Linux does
    [InlineData(3, 0, false)]
    [InlineData(2, 0, false)]
    public void ICResp_digests_must_be_those_requested(int requested, int granted, bool acceptable)
    {
        var icReq = new IcReqPdu(0, 0, (DigestTypes)requested, 0);
        var icResp = new IcRespPdu(0, 0, (DigestTypes)granted, NvmetMaxH2CData);

        Assert.Equal(acceptable, icResp.IsAcceptableFor(icReq, out var error));
        Assert.Equal(
            acceptable ? default : new PduError(FatalErrorStatus.InvalidHeaderField, IcRespPdu.DigestOffset, PduRule.IcDigestsNotAsRequested, PduType.ICResp),
            error);
    }

    // PDO is reserved in a TermReq (its data starts at HLEN): a peer's reason for closing is read whatever PDO holds.
    [Theory]
    [InlineData(PduType.C2HTermReq, PduDirection.ControllerToHost)]
    [InlineData(PduType.H2CTermReq, PduDirection.HostToController)]
    public void A_TermReq_with_PDO_set_still_decodes_with_its_FES_FEI_and_offending_header(PduType type, PduDirection receiving)
    {
        var offending = Enumerable.Range(0, 24).Select(i => (byte)i).ToArray();
        var pdu = new byte[TermReqPdu.MaxLength];
        var length = new TermReqPdu(type, FatalErrorStatus.PduSequenceError, 0x10).Encode(pdu, offending);
        pdu[PduHeader.PdoOffset] = 0xCF;
        var options = new PduCodecOptions(receiving, true, false, false, 4, 4, 4096, 4096, CheckReserved: false);

        Assert.Equal(DecodeStatus.Done, PduDecoder.TryDecode(pdu.AsSpan(0, length), options, out var header, out var data, out _));
        Assert.Equal(FatalErrorStatus.PduSequenceError, header.TermReq.Fes);
        Assert.Equal(0x10u, header.TermReq.Fei);
        Assert.Equal(offending, data.ToArray());
    }

    [Theory]
    [InlineData(0, 4096u)]
    [InlineData(31, 0xFFFFFFFCu)]
    public void ICResp_alignment_and_MAXH2CDATA_are_left_to_the_decoder(byte cpda, uint maxH2CData) =>
        Assert.True(new IcRespPdu(0, cpda, DigestTypes.None, maxH2CData).IsAcceptableFor(new IcReqPdu(0, 0, DigestTypes.None, 0), out _));

    [Fact]
    public void AfterInitialize_takes_alignment_from_each_side_and_digests_from_the_ICResp()
    {
        var icReq = new IcReqPdu(0, 3, DigestTypes.Header | DigestTypes.Data, 0);
        var icResp = new IcRespPdu(0, 7, DigestTypes.Header | DigestTypes.Data, 8192);

        var options = PduCodecOptions.HostBeforeInitialize(MaxData).AfterInitialize(icReq, icResp);

        Assert.True(options.Initialized);
        Assert.True(options.HeaderDigest);
        Assert.True(options.DataDigest);
        Assert.Equal(16, options.HostAlignment);
        Assert.Equal(32, options.ControllerAlignment);
        Assert.Equal(8192u, options.MaxH2CData);
        Assert.Equal(16, options.AlignmentOf(PduType.C2HData));
        Assert.Equal(32, options.AlignmentOf(PduType.H2CData));
        Assert.False(options.HasHeaderDigest(PduType.C2HTermReq));
        Assert.True(options.HasHeaderDigest(PduType.R2T));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void For_sends_the_TermReq_of_the_sending_direction_with_FES_and_FEI(bool host)
    {
        var sending = host ? PduDirection.HostToController : PduDirection.ControllerToHost;
        var expected = host ? PduType.H2CTermReq : PduType.C2HTermReq;
        var error = new PduError(FatalErrorStatus.HeaderDigestError, 0xCAFEF00D, PduRule.HeaderDigest, PduType.C2HData);

        Assert.Equal(new TermReqPdu(expected, FatalErrorStatus.HeaderDigestError, 0xCAFEF00D), TermReqPdu.For(error, sending));
    }

    [Fact]
    public void A_host_reports_a_bad_PDU_with_an_H2CTermReq_carrying_its_header()
    {
        // The host receives a C2HData with SUCCESS but no LAST_PDU.
        var options = Host();
        var pdu = C2HData(new C2HDataPdu(3, 0, 0, true, false), new byte[8], options);
        pdu[1] = (byte)PduFlags.Success;
        Assert.Equal(DecodeStatus.Invalid, PduDecoder.TryDecode(pdu, options, out _, out _, out var error));

        var termReq = TermReqPdu.For(error, PduDirection.HostToController);
        var bytes = TermReq(termReq, pdu.AsSpan(0, pdu[2]));

        // The controller reads it back: FES 1, FEI 1, and the offending header as data.
        Assert.Equal(DecodeStatus.Done, PduDecoder.TryDecode(bytes, Controller(), out var header, out var data, out _));
        Assert.Equal(new TermReqPdu(PduType.H2CTermReq, FatalErrorStatus.InvalidHeaderField, 1), header.TermReq);
        Assert.Equal(pdu[..24], data.ToArray());
    }

    [Fact]
    public void A_controller_reports_an_H2CData_over_MAXH2CDATA_with_FES_5()
    {
        var options = Controller(maxH2CData: 4096);
        var pdu = H2CData(new H2CDataPdu(3, 1, 0, 0, true), new byte[4100], options);
        Assert.Equal(DecodeStatus.Invalid, PduDecoder.TryDecodeHeader(pdu, options, out _, out var error));

        var termReq = TermReqPdu.For(error, PduDirection.ControllerToHost);

        Assert.Equal(new TermReqPdu(PduType.C2HTermReq, FatalErrorStatus.LimitExceeded, H2CDataPdu.DatalOffset), termReq);
    }

    [Fact]
    public void TermReq_Encode_refuses_other_types() =>
        Assert.Throws<InvalidOperationException>(() => new TermReqPdu(PduType.R2T, FatalErrorStatus.InvalidHeaderField, 0).Encode(new byte[64], []));
}
