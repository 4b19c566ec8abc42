using FsCheck;
using FsCheck.Fluent;
using NvmeTcp.Protocol;
using static NvmeTcp.Client.Tests.Protocol.PduTestKit;

namespace NvmeTcp.Client.Tests.Protocol;

/// <summary>
/// What to build: a PDU type, how much data, the negotiated digests and alignments (HPDA, CPDA 0-31) and a seed for
/// every other field. The field values come from the seed so a failing case prints compactly and replays exactly.
/// </summary>
public sealed record PduSpec(byte Type, int DataLength, bool HeaderDigest, bool DataDigest, int Hpda, int Cpda, int Seed);

/// <summary>A PDU built from a <see cref="PduSpec"/>: its bytes, the receiver's options and the expected decode.</summary>
internal sealed record BuiltPdu(byte[] Bytes, PduCodecOptions Options, PduHeader Common, int DataOffset, byte[] Data, Action<ReceivedHeader> VerifyFields);

/// <summary>FsCheck generators and the builder behind the codec properties.</summary>
internal static class PduGenerators
{
    /// <summary>MAXH2CDATA in generated options: above the largest generated H2CData.</summary>
    public const uint MaxH2CData = 65536;

    /// <summary>Every PDU type.</summary>
    public static readonly byte[] AllTypes = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x09];

    /// <summary>Mostly small data, sometimes up to about 9000 bytes.</summary>
    public static Gen<int> DataLength => Gen.Frequency((3, Gen.Choose(0, 64)), (1, Gen.Choose(0, 9000)));

    public static Gen<PduSpec> Spec(byte[] types) =>
        from type in Gen.Elements(types)
        from length in DataLength
        from hd in Gen.Elements(false, true)
        from dd in Gen.Elements(false, true)
        from hpda in Gen.Choose(0, 31)
        from cpda in Gen.Choose(0, 31)
        from seed in Gen.Choose(0, int.MaxValue)
        select new PduSpec(type, length, hd, dd, hpda, cpda, seed);

    /// <summary>The options of the end that receives a PDU of <paramref name="spec"/> after initialization.</summary>
    public static PduCodecOptions Negotiated(PduSpec spec) => new(
        PduHeader.DirectionOf((PduType)spec.Type), true, spec.HeaderDigest, spec.DataDigest,
        (spec.Hpda + 1) * 4, (spec.Cpda + 1) * 4, MaxH2CData, MaxData, true);

    public static BuiltPdu Build(PduSpec spec)
    {
        var random = new Random(spec.Seed);
        var type = (PduType)spec.Type;
        var options = Negotiated(spec);
        byte[] Data(int length)
        {
            var data = new byte[length];
            random.NextBytes(data);
            return data;
        }

        ushort U16() => (ushort)random.Next(0x10000);
        uint U32() => (uint)random.NextInt64(0x1_0000_0000);
        switch (type)
        {
            case PduType.ICReq:
            {
                var pdu = new IcReqPdu(0, (byte)random.Next(32), (DigestTypes)random.Next(4), U32());
                var bytes = IcReq(pdu);
                return new(bytes, PduCodecOptions.ControllerBeforeInitialize(MaxData), PduHeader.Read(bytes), 0, [], h => Assert.Equal(pdu, h.IcReq));
            }

            case PduType.ICResp:
            {
                var pdu = new IcRespPdu(0, (byte)random.Next(32), (DigestTypes)random.Next(4), 4096 + (4 * (uint)random.Next(1 << 20)));
                var bytes = IcResp(pdu);
                var pre = PduCodecOptions.HostBeforeInitialize(MaxData) with { CheckReserved = true };
                return new(bytes, pre, PduHeader.Read(bytes), 0, [], h => Assert.Equal(pdu, h.IcResp));
            }

            case PduType.H2CTermReq or PduType.C2HTermReq:
            {
                var pdu = new TermReqPdu(type, (FatalErrorStatus)random.Next(1, 7), U32());
                var data = Data(spec.DataLength % (PduCodecOptions.MaxTermReqData + 1));
                var bytes = TermReq(pdu, data);

                // A TermReq may come before initialization as well as after.
                var termOptions = random.Next(2) == 0 ? options : options with { Initialized = false };
                return new(bytes, termOptions, PduHeader.Read(bytes), data.Length == 0 ? 0 : 24, data, h => Assert.Equal(pdu, h.TermReq));
            }

            case PduType.CapsuleCmd:
            {
                var sqe = Sqe.Read(Data(Sqe.Size));
                var data = Data(spec.DataLength);
                var bytes = CapsuleCmd(sqe, data, options);
                return new(bytes, options, PduHeader.Read(bytes), data.Length == 0 ? 0 : bytes[3], data, h =>
                {
                    var decoded = h.Sqe;
                    Assert.True(((ReadOnlySpan<byte>)sqe).SequenceEqual(decoded));
                });
            }

            case PduType.CapsuleResp:
            {
                // Bit 0 of the status (phase) is reserved over fabrics: NvmeStatus drops it.
                var cqe = new Cqe(U32(), U32(), U16(), U16(), U16(), NvmeStatus.FromStatusField((ushort)(U16() & 0xFFFE)));
                var bytes = CapsuleResp(cqe, options);
                return new(bytes, options, PduHeader.Read(bytes), 0, [], h => Assert.Equal(cqe, h.Cqe));
            }

            case PduType.H2CData:
            {
                var data = Data(Math.Max(1, spec.DataLength));
                var pdu = new H2CDataPdu(U16(), U16(), U32(), (uint)data.Length, random.Next(2) == 0);
                var bytes = H2CData(pdu, data, options);
                return new(bytes, options, PduHeader.Read(bytes), bytes[3], data, h => Assert.Equal(pdu, h.H2CData));
            }

            case PduType.C2HData:
            {
                var data = Data(Math.Max(1, spec.DataLength));
                var last = random.Next(2) == 0;
                var pdu = new C2HDataPdu(U16(), U32(), (uint)data.Length, last, last && random.Next(2) == 0);
                var bytes = C2HData(pdu, data, options);
                return new(bytes, options, PduHeader.Read(bytes), bytes[3], data, h => Assert.Equal(pdu, h.C2HData));
            }

            case PduType.R2T:
            {
                var pdu = new R2TPdu(U16(), U16(), U32(), Math.Max(1, U32()));
                var bytes = R2T(pdu, options);
                return new(bytes, options, PduHeader.Read(bytes), 0, [], h => Assert.Equal(pdu, h.R2T));
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(spec));
        }
    }
}
