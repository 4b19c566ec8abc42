using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NvmeTcp.Protocol;
using static NvmeTcp.Client.Tests.Protocol.PduTestKit;

namespace NvmeTcp.Client.Tests.Protocol;

/// <summary>Encode then decode, whole and split: every PDU type, field values, data lengths, digests and alignments.</summary>
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

        var sequence = Segmented(built.Bytes, [spec.Seed % built.Bytes.Length, 7, 30, 100]);
        status = PduDecoder.TryDecode(sequence, built.Options, new Crc32C(), out header, out var sequenceData, out var end, out error);
        AssertDecodes(built, status, header, sequenceData.ToArray(), error);
        Assert.Equal(sequence.End, end);
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

    [Property(MaxTest = 200)]
    public Property Any_split_of_a_stream_decodes_to_the_same_PDUs() => Prop.ForAll(
        Arb.From(Gen.Zip(PduGenerators.Stream, Gen.ListOf(Gen.Choose(1, 40000), 12))),
        input =>
        {
            var (specs, cutPoints) = input;
            var pdus = specs.Select(PduGenerators.Build).ToArray();
            var options = pdus[0].Options with { Initialized = true };
            var stream = pdus.SelectMany(p => p.Bytes).ToArray();
            var sequence = Segmented(stream, cutPoints.Select(c => c % stream.Length).Concat([1, 2, 3]));
            var digest = new Crc32C();
            foreach (var built in pdus)
            {
                var status = PduDecoder.TryDecode(sequence, options, digest, out var header, out var data, out var end, out var error);
                AssertDecodes(built, status, header, data.ToArray(), error);
                sequence = sequence.Slice(end);
            }

            Assert.True(sequence.IsEmpty);
        });

    [Property(MaxTest = 200)]
    public Property Every_strict_prefix_needs_more_data_and_consumes_nothing() => Prop.ForAll(Arb.From(PduGenerators.Spec(PduGenerators.AllTypes)), spec =>
    {
        var built = PduGenerators.Build(spec);
        var bytes = built.Bytes;
        var random = new Random(spec.Seed);
        var lengths = Enumerable.Range(0, Math.Min(bytes.Length, 160))
            .Concat(Enumerable.Range(0, 16).Select(_ => random.Next(bytes.Length)))
            .Append(bytes.Length - 1);
        foreach (var length in lengths.Distinct())
        {
            var prefix = bytes[..length];
            Assert.Equal(DecodeStatus.NeedMoreData, PduDecoder.TryDecode(prefix, built.Options, out _, out _, out _));
            var sequence = Segmented(prefix, [length / 2, length / 3, 5]);
            Assert.Equal(DecodeStatus.NeedMoreData, PduDecoder.TryDecode(sequence, built.Options, new Crc32C(), out _, out _, out var end, out _));
            Assert.Equal(sequence.Start, end);
            var headerStatus = PduDecoder.TryDecodeHeader(sequence, built.Options, out _, out _);
            Assert.Equal(length < built.Common.Hlen + (spec.HeaderDigest && built.Options.HasHeaderDigest(built.Common.Type) ? 4 : 0) ? DecodeStatus.NeedMoreData : DecodeStatus.Done, headerStatus);
        }
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
            var sequence = Segmented(bytes, [index, pdo + 1]);
            Assert.Equal(DecodeStatus.DataDigestError, PduDecoder.TryDecode(sequence, built.Options, new Crc32C(), out header, out _, out var end, out _));
            Assert.Equal(sequence.End, end);
            Assert.Equal(bytes.Length, header.Length);
        });
}
