using System.Buffers.Binary;
using NvmeTcp.Protocol;

namespace NvmeTcp.Client.Tests.Protocol;

/// <summary>Options, encoders and buffers shared by the PDU codec tests.</summary>
internal static class PduTestKit
{
    /// <summary>MAXH2CDATA Linux nvmet grants (captures).</summary>
    public const uint NvmetMaxH2CData = 0x400000;

    /// <summary>A generous per-PDU data limit for tests.</summary>
    public const uint MaxData = 1 << 20;

    /// <summary>A host after ICReq/ICResp.</summary>
    public static PduCodecOptions Host(bool hd = false, bool dd = false, int hostAlignment = 4, int controllerAlignment = 4, uint maxData = MaxData) =>
        new(PduDirection.ControllerToHost, true, hd, dd, hostAlignment, controllerAlignment, NvmetMaxH2CData, maxData, true);

    /// <summary>A controller after ICReq/ICResp.</summary>
    public static PduCodecOptions Controller(bool hd = false, bool dd = false, int hostAlignment = 4, int controllerAlignment = 4, uint maxH2CData = NvmetMaxH2CData, uint maxData = MaxData) =>
        new(PduDirection.HostToController, true, hd, dd, hostAlignment, controllerAlignment, maxH2CData, maxData, true);

    /// <summary>The options of the end that receives <paramref name="type"/>, with the same negotiated state as <paramref name="options"/>.</summary>
    public static PduCodecOptions ReceiverOf(PduType type, PduCodecOptions options) =>
        options with { Receiving = PduHeader.DirectionOf(type) };

    /// <summary>Reads a PDU saved from a capture (TestData/pdu, see its README).</summary>
    public static byte[] Load(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", "pdu", name));

    /// <summary>Encodes a data PDU (CapsuleCmd, C2HData, H2CData) with its data and data digest.</summary>
    public static byte[] WithData(Func<Memory<byte>, PduLayout> encodePrefix, ReadOnlySpan<byte> data)
    {
        var scratch = Dirty(256);
        var layout = encodePrefix(scratch);
        var pdu = new byte[layout.Plen];
        scratch.AsSpan(0, layout.PrefixLength).CopyTo(pdu);
        if (layout.DataLength != 0)
        {
            data.CopyTo(pdu.AsSpan(layout.Pdo));
            if (layout.DataDigestLength != 0)
            {
                Crc32C.Write(pdu.AsSpan(layout.Pdo + layout.DataLength), Crc32C.Compute(data));
            }
        }

        return pdu;
    }

    /// <summary>Encodes a CapsuleCmd with in-capsule data.</summary>
    public static byte[] CapsuleCmd(Sqe sqe, ReadOnlySpan<byte> data, PduCodecOptions options)
    {
        var length = data.Length;
        return WithData(buffer => CapsuleCmdPdu.EncodePrefix(buffer.Span, sqe, length, options), data);
    }

    /// <summary>Encodes a C2HData with its data (DATAL is taken from the data).</summary>
    public static byte[] C2HData(C2HDataPdu pdu, ReadOnlySpan<byte> data, PduCodecOptions options)
    {
        var withLength = pdu with { Datal = (uint)data.Length };
        return WithData(buffer => withLength.EncodePrefix(buffer.Span, options), data);
    }

    /// <summary>Encodes an H2CData with its data (DATAL is taken from the data).</summary>
    public static byte[] H2CData(H2CDataPdu pdu, ReadOnlySpan<byte> data, PduCodecOptions options)
    {
        var withLength = pdu with { Datal = (uint)data.Length };
        return WithData(buffer => withLength.EncodePrefix(buffer.Span, options), data);
    }

    /// <summary>Encodes a CapsuleResp.</summary>
    public static byte[] CapsuleResp(Cqe cqe, PduCodecOptions options)
    {
        var buffer = Dirty(64);
        return buffer[..CapsuleRespPdu.Encode(buffer, cqe, options)];
    }

    /// <summary>Encodes an R2T.</summary>
    public static byte[] R2T(R2TPdu pdu, PduCodecOptions options)
    {
        var buffer = Dirty(64);
        return buffer[..pdu.Encode(buffer, options)];
    }

    /// <summary>Encodes a TermReq carrying <paramref name="offending"/>.</summary>
    public static byte[] TermReq(TermReqPdu pdu, ReadOnlySpan<byte> offending)
    {
        var buffer = Dirty(TermReqPdu.MaxLength);
        return buffer[..pdu.Encode(buffer, offending)];
    }

    /// <summary>Encodes an ICReq.</summary>
    public static byte[] IcReq(IcReqPdu pdu)
    {
        var buffer = Dirty(IcReqPdu.Length);
        pdu.Encode(buffer);
        return buffer;
    }

    /// <summary>Encodes an ICResp.</summary>
    public static byte[] IcResp(IcRespPdu pdu)
    {
        var buffer = Dirty(IcRespPdu.Length);
        pdu.Encode(buffer);
        return buffer;
    }

    /// <summary>A scratch buffer full of 0xEE, so an encoder that forgets to write or clear a byte shows up.</summary>
    public static byte[] Dirty(int length)
    {
        var buffer = new byte[length];
        buffer.AsSpan().Fill(0xEE);
        return buffer;
    }

    /// <summary>Recomputes the header digest after a test changed a header byte, so a later check sees the change.</summary>
    public static void FixHeaderDigest(Span<byte> pdu)
    {
        var hlen = pdu[2];
        Crc32C.Write(pdu.Slice(hlen, Crc32C.Size), Crc32C.Compute(pdu[..hlen]));
    }

    /// <summary>Writes a little-endian dword.</summary>
    public static void Put32(Span<byte> pdu, int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(pdu[offset..], value);

    /// <summary>Writes a little-endian word.</summary>
    public static void Put16(Span<byte> pdu, int offset, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(pdu[offset..], value);

    /// <summary>
    /// Feeds <paramref name="bytes"/> to the header decoder as the receive loops do, one more byte each time from an
    /// empty buffer: every shorter buffer must need more data and produce no header.
    /// </summary>
    /// <returns>The first result other than NeedMoreData and the buffer length that gave it (past the end: none came).</returns>
    public static (DecodeStatus Status, int Length, ReceivedHeader Header, PduError Error) DecodeHeaderGrowing(ReadOnlySpan<byte> bytes, in PduCodecOptions options)
    {
        for (var length = 0; length <= bytes.Length; length++)
        {
            var status = PduDecoder.TryDecodeHeader(bytes[..length], options, out var header, out var error);
            if (status != DecodeStatus.NeedMoreData)
            {
                return (status, length, header, error);
            }

            Assert.Equal(0, header.Length);
            Assert.Equal(default, error);
        }

        return (DecodeStatus.NeedMoreData, bytes.Length + 1, default, default);
    }
}
