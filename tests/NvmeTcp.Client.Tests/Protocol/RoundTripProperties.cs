using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NvmeTcp.Protocol;
using static NvmeTcp.Client.Tests.Protocol.PduTestKit;

namespace NvmeTcp.Client.Tests.Protocol;

/// <summary>Encode then decode, whole and as it arrives: every PDU type, field values, data lengths, digests and alignments.</summary>
public class RoundTripProperties
{
    private static void AssertDecodes(BuiltPdu built, DecodeStatus status, ReceivedHeader header, byte[] data, PduError error)
    {
        Assert.True(status == DecodeStatus.Done, $"{status}: {error}");
        Assert.Equal(built.Common, header.Common);
        Assert.Equal(built.Bytes.Length, header.Length);
        Assert.Equal(built.DataOffset, header.DataOffset);
        Assert.Equal(built.Data, data);
        built.VerifyFields(header);
    }

    [Property(MaxTest = 400)]
    public Property Every_PDU_type_round_trips() => Prop.ForAll(Arb.From(PduGenerators.Spec(PduGenerators.AllTypes)), spec =>
    {
        var built = PduGenerators.Build(spec);
        var status = PduDecoder.TryDecode(built.Bytes, built.Options, out var header, out var data, out var error);
        AssertDecodes(built, status, header, data.ToArray(), error);
    });

    [Property(MaxTest = 300)]
    public Property Layout_puts_PDO_at_the_aligned_end_of_the_header_with_zero_padding() => Prop.ForAll(Arb.From(PduGenerators.Spec([0x04, 0x06, 0x07])), spec =>
    {
        var built = PduGenerators.Build(spec);
        var bytes = built.Bytes;
        if (built.Data.Length == 0)
        {
            Assert.Equal(0, bytes[3]);
            return;
        }

        var hlen = bytes[2];
        var hd = spec.HeaderDigest ? 4 : 0;
        var alignment = spec.Type == 0x07 ? (spec.Hpda + 1) * 4 : (spec.Cpda + 1) * 4;
        var pdo = (hlen + hd + alignment - 1) / alignment * alignment;
        Assert.Equal(pdo, bytes[3]);
        Assert.Equal((uint)(pdo + built.Data.Length + (spec.DataDigest ? 4 : 0)), BitConverter.ToUInt32(bytes, 4));
        Assert.All(bytes[(hlen + hd)..pdo], b => Assert.Equal(0, b));
        if (spec.DataDigest)
        {
            // The data digest covers the data only, not the padding.
            Assert.Equal(Crc32C.Compute(built.Data), Crc32C.Read(bytes.AsSpan(pdo + built.Data.Length)));
        }

        if (pdo > hlen + hd)
        {
            // Padding is covered by neither digest: a receiver ignores it.
            bytes[pdo - 1] = 0x5A;
            Assert.Equal(DecodeStatus.Done, PduDecoder.TryDecode(bytes, built.Options, out _, out _, out _));
        }
    });

    // The receive loops decode on every arrival: the client the header alone (it copies the data itself), the target
    // the whole PDU. Whatever follows a PDU, its header decodes at exactly HLEN (+ HDGST) bytes, the same as whole,
    // and the PDU at exactly PLEN; every shorter buffer needs more data and yields nothing.
    [Property(MaxTest = 200)]
    public Property Growing_prefixes_need_more_data_until_the_header_or_the_PDU_is_complete() => Prop.ForAll(
        Arb.From(Gen.Zip(PduGenerators.Spec(PduGenerators.AllTypes), Gen.Choose(0, 200))),
        input =>
        {
            var (spec, trailing) = input;
            var built = PduGenerators.Build(spec);
            var random = new Random(spec.Seed);
            var buffer = new byte[built.Bytes.Length + trailing];
            random.NextBytes(buffer);
            built.Bytes.CopyTo(buffer, 0);
            var headerLength = built.Common.Hlen + (built.Options.HasHeaderDigest(built.Common.Type) ? Crc32C.Size : 0);

            var grown = DecodeHeaderGrowing(buffer, built.Options);
            Assert.True(grown.Status == DecodeStatus.Done, $"{grown.Status}: {grown.Error}");
            Assert.Equal(headerLength, grown.Length);
            Assert.Equal(built.Common, grown.Header.Common);
            Assert.Equal(built.Bytes.Length, grown.Header.Length);
            built.VerifyFields(grown.Header);

            // The whole PDU, in steps of random size, then a byte at a time just short of it.
            var length = 0;
            while (length < built.Bytes.Length)
            {
                Assert.Equal(DecodeStatus.NeedMoreData, PduDecoder.TryDecode(buffer.AsSpan(0, length), built.Options, out var partial, out var none, out _));
                Assert.Equal(0, partial.Length);
                Assert.True(none.IsEmpty);
                length = built.Bytes.Length - length <= 8 ? length + 1 : length + random.Next(1, 1 + (built.Bytes.Length / 4));
            }

            var status = PduDecoder.TryDecode(buffer, built.Options, out var header, out var data, out var error);
            AssertDecodes(built, status, header, data.ToArray(), error);
        });

    [Property(MaxTest = 200)]
    public Property A_data_digest_mismatch_is_DataDigestError_with_a_known_length() => Prop.ForAll(
        Arb.From(Gen.Zip(PduGenerators.Spec([0x04, 0x06, 0x07]), Gen.Choose(0, int.MaxValue))),
        input =>
        {
            var (spec, where) = input;
            var built = PduGenerators.Build(spec with { DataDigest = true, DataLength = Math.Max(1, spec.DataLength) });
            var bytes = built.Bytes;
            var pdo = bytes[3];

            // Flip one bit of the data or of the DDGST itself.
            var index = pdo + (where % (built.Data.Length + 4));
            bytes[index] ^= (byte)(1 << (where % 8));

            Assert.Equal(DecodeStatus.DataDigestError, PduDecoder.TryDecode(bytes, built.Options, out var header, out _, out _));
            Assert.Equal(bytes.Length, header.Length);
            Assert.Equal(built.Common, header.Common);
        });
}
