using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NvmeTcp.Protocol;
using static NvmeTcp.Client.Tests.Protocol.PduTestKit;

namespace NvmeTcp.Client.Tests.Protocol;

/// <summary>
/// Untrusted input: random bytes and mutated PDUs never throw or read out of range, a claimed length never makes the
/// decoder wait for (or buffer) it, and decoding a span allocates nothing.
/// </summary>
public class RobustnessTests
{
    private static readonly PduCodecOptions[] OptionSets =
    [
        PduCodecOptions.HostBeforeInitialize(MaxData),
        PduCodecOptions.ControllerBeforeInitialize(MaxData),
        Host(),
        Host(true, true, hostAlignment: 128),
        Controller(),
        Controller(true, true, controllerAlignment: 16),
        Host(maxData: uint.MaxValue),
        Controller(dd: true, maxData: uint.MaxValue) with { CheckReserved = false },
    ];

    /// <summary>Decodes every way there is and checks the result is one of the four statuses and self-consistent.</summary>
    private static void DecodeAnyway(byte[] bytes, PduCodecOptions options)
    {
        var status = PduDecoder.TryDecodeHeader(bytes, options, out var header, out var error);
        Assert.True(Enum.IsDefined(status) && status != DecodeStatus.DataDigestError, status.ToString());

        // Arriving a byte at a time, the header decoder reaches the same verdict at the first length that decides it.
        var grown = DecodeHeaderGrowing(bytes, options);
        Assert.Equal(status, grown.Status);
        Assert.Equal(error, grown.Error);
        Assert.Equal(header.Common, grown.Header.Common);

        status = PduDecoder.TryDecode(bytes, options, out header, out var data, out error);
        Assert.True(Enum.IsDefined(status));
        if (status is DecodeStatus.Done or DecodeStatus.DataDigestError)
        {
            Assert.InRange(header.Length, PduHeader.Size, bytes.Length);
            Assert.InRange(header.DataOffset + header.DataLength + header.DataDigestLength, 0, header.Length);
            Assert.Equal(header.DataLength, data.Length);
        }
        else if (status == DecodeStatus.Invalid)
        {
            Assert.NotEqual(PduRule.None, error.Rule);
            Assert.InRange((int)error.Fes, 1, 6);
        }
    }

    [Property(MaxTest = 500)]
    public Property Random_bytes_never_throw() => Prop.ForAll(
        Arb.From(
            from length in Gen.Frequency((3, Gen.Choose(0, 40)), (2, Gen.Choose(0, 300)))
            from bytes in Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), length)
            from type in Gen.Elements(PduGenerators.AllTypes.Append((byte)0x08).ToArray())
            from forceType in Gen.Elements(false, true)
            from optionsIndex in Gen.Choose(0, OptionSets.Length - 1)
            select (bytes, type, forceType, optionsIndex)),
        input =>
        {
            var bytes = input.bytes;
            if (input.forceType && bytes.Length >= 3)
            {
                // Give the header a known type and its HLEN, so the random bytes reach the later checks.
                bytes[0] = input.type;
                bytes[2] = (byte)PduHeader.HeaderLengthOf((PduType)input.type);
            }

            DecodeAnyway(bytes, OptionSets[input.optionsIndex]);
        });

    [Property(MaxTest = 500)]
    public Property Mutated_PDUs_never_throw() => Prop.ForAll(
        Arb.From(
            from spec in PduGenerators.Spec(PduGenerators.AllTypes)
            from mutations in Gen.ListOf(Gen.Zip(Gen.Choose(0, int.MaxValue), Gen.Choose(0, 255)), 4)
            from cut in Gen.Choose(-200, 200)
            from fixDigest in Gen.Elements(false, true)
            select (spec, mutations, cut, fixDigest)),
        input =>
        {
            var built = PduGenerators.Build(input.spec);
            var bytes = built.Bytes;
            var limit = Math.Min(bytes.Length, 160);
            foreach (var (position, value) in input.mutations)
            {
                bytes[position % limit] = (byte)value;
            }

            if (input.fixDigest && built.Options.HasHeaderDigest(built.Common.Type) && bytes[2] == built.Common.Hlen)
            {
                // Re-sign the header so the mutation reaches the checks after the header digest.
                FixHeaderDigest(bytes);
            }

            // Sometimes cut the PDU short or append garbage.
            bytes = input.cut < 0 ? bytes[..Math.Max(0, bytes.Length + input.cut)] : [.. bytes, .. new byte[input.cut]];
            DecodeAnyway(bytes, built.Options);
            DecodeAnyway(bytes, OptionSets[input.spec.Seed % OptionSets.Length]);
        });

    [Theory]
    [InlineData((byte)0x07, 24)]
    [InlineData((byte)0x06, 24)]
    [InlineData((byte)0x04, 72)]
    public void A_claimed_PLEN_of_4_GiB_is_refused_from_the_header_alone(byte type, int hlen)
    {
        // Only the header has arrived; PDO points just past it.
        var header = new byte[hlen];
        header[0] = type;
        header[2] = (byte)hlen;
        header[3] = (byte)hlen;
        Put32(header, 4, uint.MaxValue);
        Put32(header, 16, uint.MaxValue - (uint)hlen);
        var options = type == 0x07 ? Host() : Controller();

        // An H2CData is over MAXH2CDATA before it is over what this end buffers: FES 05h (NVMe/TCP 3.3.2.2), DATAL's offset.
        var expected = type == 0x06
            ? new PduError(FatalErrorStatus.LimitExceeded, 16, PduRule.DataLengthOverMaxH2CData, PduType.H2CData)
            : new PduError(FatalErrorStatus.InvalidHeaderField, 4, PduRule.PduLengthTooLarge, (PduType)type);
        Assert.Equal(DecodeStatus.Invalid, PduDecoder.TryDecodeHeader(header, options, out _, out var error));
        Assert.Equal(expected, error);
        Assert.Equal(DecodeStatus.Invalid, PduDecoder.TryDecode(header, options, out _, out _, out error));
        Assert.Equal(expected.Rule, error.Rule);
    }

    [Theory]
    [InlineData(uint.MaxValue)]
    [InlineData(0x8000_0000u)]
    public void A_PLEN_past_int_MaxValue_is_refused_even_when_MaxDataLength_allows_it(uint plen)
    {
        // DATAL matches the claimed data exactly, so only the length limit can catch it.
        var header = new byte[24];
        header[0] = 0x07;
        header[2] = 24;
        header[3] = 24;
        Put32(header, 4, plen);
        Put32(header, 16, plen - 24);
        var options = Host(maxData: uint.MaxValue);

        Assert.Equal(DecodeStatus.Invalid, PduDecoder.TryDecodeHeader(header, options, out _, out var error));
        Assert.Equal(new PduError(FatalErrorStatus.InvalidHeaderField, 4, PduRule.PduLengthTooLarge, PduType.C2HData), error);
        Assert.Equal(DecodeStatus.Invalid, PduDecoder.TryDecode(header, options, out _, out _, out error));
    }

    [Fact]
    public void Decoding_a_span_allocates_nothing()
    {
        var options = Host(true, true);
        var data = new byte[4096];
        new Random(1).NextBytes(data);
        var pdu = C2HData(new C2HDataPdu(9, 0, 0, true, false), data, options);
        var resp = CapsuleResp(new Cqe(0, 0, 1, 0, 9, NvmeStatus.Success), options);
        var bad = (byte[])pdu.Clone();
        bad[40] ^= 1;

        var statuses = 0;
        void Run()
        {
            for (var i = 0; i < 100; i++)
            {
                statuses += (int)PduDecoder.TryDecodeHeader(pdu, options, out _, out _);
                statuses += (int)PduDecoder.TryDecode(pdu, options, out _, out _, out _);
                statuses += (int)PduDecoder.TryDecode(resp, options, out _, out _, out _);
                statuses += (int)PduDecoder.TryDecode(bad, options, out _, out _, out _);
                statuses += (int)PduDecoder.TryDecode(pdu.AsSpan(0, 100), options, out _, out _, out _);
            }
        }

        Run();
        var before = GC.GetAllocatedBytesForCurrentThread();
        Run();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(2 * 100 * (int)(DecodeStatus.DataDigestError + (int)DecodeStatus.NeedMoreData), statuses);
    }
}
