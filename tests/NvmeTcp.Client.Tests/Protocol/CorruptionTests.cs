using System.Buffers.Binary;
using NvmeTcp.Protocol;
using static NvmeTcp.Client.Tests.Protocol.PduTestKit;

namespace NvmeTcp.Client.Tests.Protocol;

/// <summary>
/// One corrupted field at a time: each is refused with the FES, FEI and rule of NVMe/TCP 3.6.2.4/3.6.2.5, from the
/// span and from a multi-segment sequence alike, and the first check in the documented order wins.
/// </summary>
public class CorruptionTests
{
    private static readonly byte[] Data16 = [.. Enumerable.Range(1, 16).Select(i => (byte)i)];

    private sealed record Case(Func<byte[]> Build, PduCodecOptions Options, Action<byte[]> Corrupt, FatalErrorStatus Fes, uint Fei, PduRule Rule);

    private static byte[] C2H(PduCodecOptions options) => C2HData(new C2HDataPdu(7, 0, 0, true, false), Data16, options);

    private static byte[] H2C(PduCodecOptions options) => H2CData(new H2CDataPdu(7, 2, 0, 0, true), Data16, options);

    private static byte[] Cmd(PduCodecOptions options, int dataLength)
    {
        var sqe = default(Sqe);
        sqe.Opcode = 0x01;
        sqe.Flags = Sqe.PsdtSgl;
        sqe.Cid = 7;
        return CapsuleCmd(sqe, Data16.AsSpan(0, dataLength), options);
    }

    private static byte[] Resp(PduCodecOptions options) => CapsuleResp(new Cqe(1, 2, 3, 0, 7, NvmeStatus.Success), options);

    private static byte[] R2TBytes(PduCodecOptions options) => R2T(new R2TPdu(7, 2, 0, 8192), options);

    private static byte[] C2HTerm() => TermReq(new TermReqPdu(PduType.C2HTermReq, FatalErrorStatus.InvalidHeaderField, 1), new byte[24]);

    private static byte[] ICReqBytes() => IcReq(new IcReqPdu(0, 0, DigestTypes.Header, 0));

    private static byte[] ICRespBytes() => IcResp(new IcRespPdu(0, 0, DigestTypes.Header, NvmetMaxH2CData));

    private static readonly PduCodecOptions HostOpts = Host();
    private static readonly PduCodecOptions CtrlOpts = Controller();
    private static readonly PduCodecOptions HostPre = PduCodecOptions.HostBeforeInitialize(MaxData) with { CheckReserved = true };
    private static readonly PduCodecOptions CtrlPre = PduCodecOptions.ControllerBeforeInitialize(MaxData);

    private const FatalErrorStatus Fes1 = FatalErrorStatus.InvalidHeaderField;

    private static readonly Dictionary<string, Case> Cases = new()
    {
        // Type, direction, state.
        ["type 0x08 undefined"] = new(() => C2H(HostOpts), HostOpts, p => p[0] = 0x08, Fes1, 0, PduRule.UnknownType),
        ["type 0xFF undefined"] = new(() => C2H(HostOpts), HostOpts, p => p[0] = 0xFF, Fes1, 0, PduRule.UnknownType),
        ["host receives a CapsuleCmd"] = new(() => Cmd(HostOpts, 0), HostOpts, _ => { }, Fes1, 0, PduRule.WrongDirection),
        ["controller receives a C2HData"] = new(() => C2H(CtrlOpts), CtrlOpts, _ => { }, Fes1, 0, PduRule.WrongDirection),
        ["ICResp after initialization"] = new(ICRespBytes, HostOpts, _ => { }, FatalErrorStatus.PduSequenceError, 0, PduRule.UnexpectedPdu),
        ["ICReq after initialization"] = new(ICReqBytes, CtrlOpts, _ => { }, FatalErrorStatus.PduSequenceError, 0, PduRule.UnexpectedPdu),
        ["CapsuleResp before ICResp"] = new(() => Resp(HostOpts), HostPre, _ => { }, FatalErrorStatus.PduSequenceError, 0, PduRule.UnexpectedPdu),
        ["CapsuleCmd before ICReq"] = new(() => Cmd(CtrlOpts, 0), CtrlPre, _ => { }, FatalErrorStatus.PduSequenceError, 0, PduRule.UnexpectedPdu),

        // HLEN.
        ["C2HData HLEN 25"] = new(() => C2H(HostOpts), HostOpts, p => p[2] = 25, Fes1, 2, PduRule.HeaderLength),
        ["CapsuleCmd HLEN 24"] = new(() => Cmd(CtrlOpts, 0), CtrlOpts, p => p[2] = 24, Fes1, 2, PduRule.HeaderLength),
        ["ICReq HLEN 0"] = new(ICReqBytes, CtrlPre, p => p[2] = 0, Fes1, 2, PduRule.HeaderLength),

        // FLAGS.
        ["C2HData flag bit 4"] = new(() => C2H(HostOpts), HostOpts, p => p[1] |= 0x10, Fes1, 1, PduRule.FlagNotAllowed),
        ["C2HData flag bit 7"] = new(() => C2H(HostOpts), HostOpts, p => p[1] |= 0x80, Fes1, 1, PduRule.FlagNotAllowed),
        ["H2CData SUCCESS"] = new(() => H2C(CtrlOpts), CtrlOpts, p => p[1] |= 0x08, Fes1, 1, PduRule.FlagNotAllowed),
        ["R2T LAST_PDU"] = new(() => R2TBytes(HostOpts), HostOpts, p => p[1] |= 0x04, Fes1, 1, PduRule.FlagNotAllowed),
        ["CapsuleCmd LAST_PDU"] = new(() => Cmd(CtrlOpts, 0), CtrlOpts, p => p[1] |= 0x04, Fes1, 1, PduRule.FlagNotAllowed),
        ["CapsuleResp DDGSTF"] = new(() => Resp(HostOpts), HostOpts, p => p[1] |= 0x02, Fes1, 1, PduRule.FlagNotAllowed),
        ["ICReq HDGSTF"] = new(ICReqBytes, CtrlPre, p => p[1] = 0x01, Fes1, 1, PduRule.FlagNotAllowed),
        ["C2HTermReq LAST_PDU"] = new(C2HTerm, HostOpts, p => p[1] = 0x04, Fes1, 1, PduRule.FlagNotAllowed),
        ["C2HData SUCCESS without LAST_PDU"] = new(() => C2H(HostOpts), HostOpts, p => p[1] = 0x08, Fes1, 1, PduRule.SuccessWithoutLast),
        ["CapsuleResp HDGSTF not negotiated"] = new(() => Resp(HostOpts), HostOpts, p => p[1] |= 0x01, Fes1, 1, PduRule.HeaderDigestFlag),
        ["C2HData HDGSTF not negotiated"] = new(() => C2H(HostOpts), HostOpts, p => p[1] |= 0x01, Fes1, 1, PduRule.HeaderDigestFlag),
        ["C2HData DDGSTF not negotiated"] = new(() => C2H(HostOpts), HostOpts, p => p[1] |= 0x02, Fes1, 1, PduRule.DataDigestFlag),
        ["C2HData DDGSTF missing"] = new(() => C2H(Host(dd: true)), Host(dd: true), p => p[1] &= 0xFD, Fes1, 1, PduRule.DataDigestFlag),
        ["H2CData DDGSTF missing"] = new(() => H2C(Controller(dd: true)), Controller(dd: true), p => p[1] &= 0xFD, Fes1, 1, PduRule.DataDigestFlag),
        ["CapsuleCmd without data DDGSTF"] = new(() => Cmd(Controller(dd: true), 0), Controller(dd: true), p => p[1] |= 0x02, Fes1, 1, PduRule.DataDigestFlag),

        // PDO.
        // PDO = PLEN (24) is a capsule without data, accepted; any other non-zero PDO is not.
        ["CapsuleResp PDO 8"] = new(() => Resp(HostOpts), HostOpts, p => p[3] = 8, Fes1, 3, PduRule.DataOffset),
        ["R2T PDO 24"] = new(() => R2TBytes(HostOpts), HostOpts, p => p[3] = 24, Fes1, 3, PduRule.DataOffset),
        ["ICResp PDO 128"] = new(ICRespBytes, HostPre, p => p[3] = 128, Fes1, 3, PduRule.DataOffset),
        ["C2HData PDO 0"] = new(() => C2H(HostOpts), HostOpts, p => p[3] = 0, Fes1, 3, PduRule.DataOffset),
        ["H2CData PDO 0"] = new(() => H2C(CtrlOpts), CtrlOpts, p => p[3] = 0, Fes1, 3, PduRule.DataOffset),
        ["C2HData PDO 20, inside the header"] = new(() => C2H(HostOpts), HostOpts, p => p[3] = 20, Fes1, 3, PduRule.DataOffsetTooSmall),
        ["CapsuleCmd PDO 72 over a header digest"] = new(() => Cmd(Controller(hd: true), 16), Controller(hd: true), p => { p[3] = 72; FixHeaderDigest(p); }, Fes1, 3, PduRule.DataOffsetTooSmall),
        ["C2HData PDO 28 with 8-byte HPDA"] = new(() => C2H(Host(hostAlignment: 8)), Host(hostAlignment: 8), p => p[3] = 28, Fes1, 3, PduRule.DataOffsetAlignment),
        ["H2CData PDO 24 with 32-byte CPDA"] = new(() => H2C(CtrlOpts), Controller(controllerAlignment: 32), _ => { }, Fes1, 3, PduRule.DataOffsetAlignment),

        // PLEN.
        ["CapsuleResp PLEN 25"] = new(() => Resp(HostOpts), HostOpts, p => Put32(p, 4, 25), Fes1, 4, PduRule.PduLength),
        ["R2T PLEN 28 without digest"] = new(() => R2TBytes(HostOpts), HostOpts, p => Put32(p, 4, 28), Fes1, 4, PduRule.PduLength),
        ["CapsuleCmd PLEN 76 without data"] = new(() => Cmd(CtrlOpts, 0), CtrlOpts, p => Put32(p, 4, 76), Fes1, 4, PduRule.PduLength),
        ["ICReq PLEN 129"] = new(ICReqBytes, CtrlPre, p => Put32(p, 4, 129), Fes1, 4, PduRule.PduLength),
        ["C2HTermReq PLEN 23"] = new(C2HTerm, HostOpts, p => Put32(p, 4, 23), Fes1, 4, PduRule.PduLength),
        ["C2HData PLEN = PDO, no data"] = new(() => C2H(HostOpts), HostOpts, p => Put32(p, 4, 24), Fes1, 4, PduRule.PduLength),
        ["C2HData PLEN below PDO"] = new(() => C2H(HostOpts), HostOpts, p => Put32(p, 4, 8), Fes1, 4, PduRule.PduLength),
        ["C2HData PLEN with data digest but no data"] = new(() => C2H(Host(dd: true)), Host(dd: true), p => Put32(p, 4, 28), Fes1, 4, PduRule.PduLength),
        ["C2HData PLEN 0xFFFFFFFF"] = new(() => C2H(HostOpts), HostOpts, p => Put32(p, 4, uint.MaxValue), Fes1, 4, PduRule.PduLengthTooLarge),
        ["C2HData 1 byte over MaxDataLength"] = new(() => C2H(HostOpts), Host(maxData: 15), _ => { }, Fes1, 4, PduRule.PduLengthTooLarge),
        ["CapsuleCmd PLEN 0xFFFFFFFF"] = new(() => Cmd(CtrlOpts, 16), CtrlOpts, p => Put32(p, 4, uint.MaxValue), Fes1, 4, PduRule.PduLengthTooLarge),

        // Type fields.
        ["C2HData DATAL 15 for 16 bytes"] = new(() => C2H(HostOpts), HostOpts, p => Put32(p, 16, 15), Fes1, 16, PduRule.DataLength),
        ["C2HData DATAL 0"] = new(() => C2H(HostOpts), HostOpts, p => Put32(p, 16, 0), Fes1, 16, PduRule.DataLength),
        ["H2CData DATAL 17 for 16 bytes"] = new(() => H2C(CtrlOpts), CtrlOpts, p => Put32(p, 16, 17), Fes1, 16, PduRule.DataLength),
        ["H2CData DATAL over MAXH2CDATA"] = new(() => H2C(CtrlOpts), Controller(maxH2CData: 12), _ => { }, FatalErrorStatus.LimitExceeded, 16, PduRule.DataLengthOverMaxH2CData),
        ["R2T R2TL 0"] = new(() => R2TBytes(HostOpts), HostOpts, p => Put32(p, 16, 0), Fes1, 16, PduRule.R2TLength),
        ["ICReq PFV 1"] = new(ICReqBytes, CtrlPre, p => p[8] = 1, FatalErrorStatus.UnsupportedParameter, 8, PduRule.IcVersion),
        ["ICResp PFV 0x100"] = new(ICRespBytes, HostPre, p => p[9] = 1, FatalErrorStatus.UnsupportedParameter, 8, PduRule.IcVersion),
        ["ICReq HPDA 32"] = new(ICReqBytes, CtrlPre, p => p[10] = 32, Fes1, 10, PduRule.IcAlignment),
        ["ICResp CPDA 255"] = new(ICRespBytes, HostPre, p => p[10] = 255, Fes1, 10, PduRule.IcAlignment),
        ["ICReq DGST bit 2"] = new(ICReqBytes, CtrlPre, p => p[11] |= 0x04, Fes1, 11, PduRule.IcDigestBits),
        ["ICResp DGST bit 7"] = new(ICRespBytes, HostPre, p => p[11] |= 0x80, Fes1, 11, PduRule.IcDigestBits),
        ["ICResp MAXH2CDATA 4092"] = new(ICRespBytes, HostPre, p => Put32(p, 12, 4092), Fes1, 12, PduRule.IcMaxH2CData),
        ["ICResp MAXH2CDATA 4098"] = new(ICRespBytes, HostPre, p => Put32(p, 12, 4098), Fes1, 12, PduRule.IcMaxH2CData),
        ["ICResp MAXH2CDATA 0"] = new(ICRespBytes, HostPre, p => Put32(p, 12, 0), Fes1, 12, PduRule.IcMaxH2CData),

        // Reserved bytes (CheckReserved on).
        ["ICReq byte 16"] = new(ICReqBytes, CtrlPre, p => p[16] = 1, Fes1, 16, PduRule.ReservedField),
        ["ICReq byte 127"] = new(ICReqBytes, CtrlPre, p => p[127] = 0x80, Fes1, 127, PduRule.ReservedField),
        ["ICResp byte 64"] = new(ICRespBytes, HostPre, p => p[64] = 1, Fes1, 64, PduRule.ReservedField),
        ["C2HTermReq byte 14"] = new(C2HTerm, HostOpts, p => p[14] = 1, Fes1, 14, PduRule.ReservedField),
        ["C2HTermReq byte 23"] = new(C2HTerm, HostOpts, p => p[23] = 1, Fes1, 23, PduRule.ReservedField),
        ["C2HData byte 10"] = new(() => C2H(HostOpts), HostOpts, p => p[10] = 1, Fes1, 10, PduRule.ReservedField),
        ["C2HData byte 11"] = new(() => C2H(HostOpts), HostOpts, p => p[11] = 1, Fes1, 11, PduRule.ReservedField),
        ["C2HData byte 20"] = new(() => C2H(HostOpts), HostOpts, p => p[20] = 1, Fes1, 20, PduRule.ReservedField),
        ["C2HData byte 23"] = new(() => C2H(HostOpts), HostOpts, p => p[23] = 1, Fes1, 23, PduRule.ReservedField),
        ["H2CData byte 21"] = new(() => H2C(CtrlOpts), CtrlOpts, p => p[21] = 1, Fes1, 21, PduRule.ReservedField),
        ["R2T byte 22"] = new(() => R2TBytes(HostOpts), HostOpts, p => p[22] = 1, Fes1, 22, PduRule.ReservedField),
        ["C2HData byte 20 under a header digest"] = new(() => C2H(Host(hd: true)), Host(hd: true), p => { p[20] = 1; FixHeaderDigest(p); }, Fes1, 20, PduRule.ReservedField),

        // Order: the first failing check wins.
        ["HLEN before flags"] = new(() => C2H(HostOpts), HostOpts, p => { p[2] = 0; p[1] = 0xFF; }, Fes1, 2, PduRule.HeaderLength),
        ["flags before PDO"] = new(() => C2H(HostOpts), HostOpts, p => { p[1] = 0x08; p[3] = 0; }, Fes1, 1, PduRule.SuccessWithoutLast),
        ["PDO before PLEN"] = new(() => C2H(HostOpts), HostOpts, p => { p[3] = 20; Put32(p, 4, 0); }, Fes1, 3, PduRule.DataOffsetTooSmall),
        ["PLEN before DATAL"] = new(() => C2H(HostOpts), HostOpts, p => { Put32(p, 4, 24); Put32(p, 16, 5); }, Fes1, 4, PduRule.PduLength),
        ["DATAL before reserved"] = new(() => C2H(HostOpts), HostOpts, p => { Put32(p, 16, 5); p[23] = 1; }, Fes1, 16, PduRule.DataLength),
        ["type before direction"] = new(() => Cmd(HostOpts, 0), HostOpts, p => p[0] = 0x0A, Fes1, 0, PduRule.UnknownType),
    };

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Corrupted_field_is_refused_with_its_FES_and_FEI(string name)
    {
        var @case = Cases[name];
        var pdu = @case.Build();
        @case.Corrupt(pdu);

        var expected = new PduError(@case.Fes, @case.Fei, @case.Rule, (PduType)pdu[0]);
        Assert.Equal(DecodeStatus.Invalid, PduDecoder.TryDecodeHeader(pdu, @case.Options, out _, out var error));
        Assert.Equal(expected, error);
        Assert.Equal(DecodeStatus.Invalid, PduDecoder.TryDecode(pdu, @case.Options, out _, out _, out error));
        Assert.Equal(expected, error);

        // Arriving a byte at a time, the violation is the first result and the same one.
        var grown = DecodeHeaderGrowing(pdu, @case.Options);
        Assert.Equal(DecodeStatus.Invalid, grown.Status);
        Assert.Equal(expected, grown.Error);

        Assert.False(string.IsNullOrEmpty(error.ToString()));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Uncorrupted_baseline_decodes(string name)
    {
        var @case = Cases[name];
        var pdu = @case.Build();
        var options = PduTestKit.ReceiverOf((PduType)pdu[0], @case.Options) with
        {
            Initialized = pdu[0] > (byte)PduType.ICResp,
            MaxH2CData = NvmetMaxH2CData,
            MaxDataLength = MaxData,
            HostAlignment = 4,
            ControllerAlignment = 4,
        };
        Assert.Equal(DecodeStatus.Done, PduDecoder.TryDecode(pdu, options, out _, out _, out var error));
        Assert.Equal(default, error);
    }

    [Theory]
    [InlineData("ICReq byte 16")]
    [InlineData("C2HTermReq byte 14")]
    [InlineData("C2HData byte 10")]
    [InlineData("C2HData byte 23")]
    [InlineData("H2CData byte 21")]
    [InlineData("R2T byte 22")]
    public void Reserved_bytes_pass_when_CheckReserved_is_off(string name)
    {
        var @case = Cases[name];
        var pdu = @case.Build();
        @case.Corrupt(pdu);

        Assert.Equal(DecodeStatus.Done, PduDecoder.TryDecode(pdu, @case.Options with { CheckReserved = false }, out _, out _, out _));
    }

    /// <summary>With header digests on, any change to a header byte the digest covers (beyond type and HLEN) is FES 3 with the received digest.</summary>
    [Theory]
    [InlineData("C2HData")]
    [InlineData("CapsuleResp")]
    [InlineData("R2T")]
    [InlineData("CapsuleCmd")]
    [InlineData("H2CData")]
    public void Header_digest_error_reports_the_received_digest(string type)
    {
        var (pdu, options) = type switch
        {
            "C2HData" => (C2H(Host(true, true)), Host(true, true)),
            "CapsuleResp" => (Resp(Host(true, true)), Host(true, true)),
            "R2T" => (R2TBytes(Host(true, true)), Host(true, true)),
            "CapsuleCmd" => (Cmd(Controller(true, true), 16), Controller(true, true)),
            _ => (H2C(Controller(true, true)), Controller(true, true)),
        };
        var hlen = pdu[2];
        var received = BinaryPrimitives.ReadUInt32LittleEndian(pdu.AsSpan(hlen));
        for (var offset = 1; offset < hlen + 4; offset++)
        {
            if (offset == 2)
            {
                continue; // HLEN is checked before the digest.
            }

            foreach (var bit in new byte[] { 0x01, 0x80 })
            {
                if (offset == 1 && bit == 0x01)
                {
                    continue; // HDGSTF itself is checked before the digest.
                }

                var corrupt = (byte[])pdu.Clone();
                corrupt[offset] ^= bit;
                var digest = offset >= hlen ? BinaryPrimitives.ReadUInt32LittleEndian(corrupt.AsSpan(hlen)) : received;
                Assert.Equal(DecodeStatus.Invalid, PduDecoder.TryDecodeHeader(corrupt, options, out _, out var error));
                Assert.Equal(new PduError(FatalErrorStatus.HeaderDigestError, digest, PduRule.HeaderDigest, (PduType)pdu[0]), error);
                Assert.Contains($"0x{digest:X8}", error.ToString(), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void A_PDU_without_HDGSTF_where_digests_were_negotiated_is_an_invalid_flags_field()
    {
        // The sender left out HDGSTF and the digest: the 4 bytes after the header are whatever followed. The flag is
        // checked first (as Linux's "header digest flag is cleared" and FreeBSD's header validator do), so this is
        // Invalid Header Field at the flags byte, not a digest error over bytes that are no digest.
        var pdu = Resp(HostOpts);
        var stream = pdu.Concat(Resp(HostOpts)).ToArray();

        Assert.Equal(DecodeStatus.Invalid, PduDecoder.TryDecodeHeader(stream, Host(hd: true), out _, out var error));
        Assert.Equal(FatalErrorStatus.InvalidHeaderField, error.Fes);
        Assert.Equal(1u, error.Fei);
        Assert.Equal(PduRule.HeaderDigestFlag, error.Rule);
    }
}
