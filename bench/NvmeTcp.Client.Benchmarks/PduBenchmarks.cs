using BenchmarkDotNet.Attributes;
using NvmeTcp.Protocol;

namespace NvmeTcp.Client.Benchmarks;

/// <summary>Header encode and decode of the PDUs on the I/O hot path: 0 B allocated per operation is the goal.</summary>
[MemoryDiagnoser]
public class PduBenchmarks
{
    private readonly byte[] _buffer = new byte[256];
    private readonly byte[] _capsuleResp = new byte[64];
    private readonly byte[] _c2hData = new byte[4096 + 64];
    private PduCodecOptions _host;
    private PduCodecOptions _controller;
    private Sqe _sqe;

    [Params(false, true)]
    public bool Digests { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var icReq = new IcReqPdu(0, 0, Digests ? DigestTypes.Header | DigestTypes.Data : DigestTypes.None, 0);
        var icResp = new IcRespPdu(0, 0, icReq.Digests, 131072);
        _host = PduCodecOptions.HostBeforeInitialize(1 << 20).AfterInitialize(icReq, icResp);
        _controller = PduCodecOptions.ControllerBeforeInitialize(1 << 20).AfterInitialize(icReq, icResp);
        _sqe.Opcode = 0x02;
        _sqe.Flags = Sqe.PsdtSgl;
        _sqe.Nsid = 1;
        _sqe.SglLength = 4096;
        _sqe.SglType = 0x5A;
        _sqe.Cdw12 = 7;

        CapsuleRespPdu.Encode(_capsuleResp, new Cqe(0, 0, 1, 1, 42, NvmeStatus.Success), _controller);
        var layout = new C2HDataPdu(42, 0, 4096, true, false).EncodePrefix(_c2hData, _controller);
        if (layout.DataDigestLength != 0)
        {
            Crc32C.Write(_c2hData.AsSpan(layout.Pdo + 4096), Crc32C.Compute(_c2hData.AsSpan(layout.Pdo, 4096)));
        }
    }

    [Benchmark]
    public int EncodeCapsuleCmd()
    {
        _sqe.Cid++;
        return CapsuleCmdPdu.EncodePrefix(_buffer, _sqe, 0, _host).PrefixLength;
    }

    [Benchmark]
    public int EncodeH2CDataPrefix() => new H2CDataPdu(42, 3, 0, 4096, true).EncodePrefix(_buffer, _host).PrefixLength;

    [Benchmark]
    public ushort DecodeCapsuleResp()
    {
        PduDecoder.TryDecodeHeader(_capsuleResp, _host, out var header, out _);
        return header.Cqe.Cid;
    }

    [Benchmark]
    public uint DecodeC2HDataHeader()
    {
        PduDecoder.TryDecodeHeader(_c2hData, _host, out var header, out _);
        return header.C2HData.Datal;
    }
}
