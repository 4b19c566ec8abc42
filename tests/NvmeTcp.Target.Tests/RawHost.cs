using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using NvmeTcp.Client;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Fabrics;
using NvmeTcp.Protocol.Spec;
using NvmeTcp.Protocol;

namespace NvmeTcp.Target.Tests;

/// <summary>A received PDU: its validated header and a copy of its data.</summary>
internal sealed record RawPdu(ReceivedHeader Header, byte[] Data, DecodeStatus Status);

/// <summary>
/// A minimal host for conformance tests: raw socket, the Protocol layer's codecs and the SQE builders, no client
/// library. Every wait is bounded by <see cref="Timeout"/>.
/// </summary>
internal sealed class RawHost : IAsyncDisposable
{
    public const string HostNqn = "nqn.2014-08.org.nvmexpress:uuid:0f0e0d0c-0b0a-0908-0706-050403020100";
    public static readonly Guid HostId = Guid.Parse("0f0e0d0c-0b0a-0908-0706-050403020100");
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly byte[] _rx = new byte[8 * 1024 * 1024];
    private int _start;
    private int _end;
    private ushort _nextCid = 1;

    private RawHost(Socket socket)
    {
        _socket = socket;
        Codec = PduCodecOptions.HostBeforeInitialize(4 * 1024 * 1024);
    }

    public PduCodecOptions Codec { get; set; }

    public IcRespPdu IcResp { get; private set; }

    public IcReqPdu IcReq { get; private set; }

    /// <summary>R2Ts seen by <see cref="ExecuteAsync"/>, and H2CData PDUs sent in answer.</summary>
    public List<R2TPdu> R2Ts { get; } = [];

    public int H2CDataSent { get; private set; }

    public List<C2HDataPdu> C2HData { get; } = [];

    public static async Task<RawHost> OpenAsync(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint).WaitAsync(Timeout);
        return new RawHost(socket);
    }

    /// <summary>Opens a connection and exchanges ICReq/ICResp.</summary>
    public static async Task<RawHost> ConnectAsync(IPEndPoint endPoint, DigestTypes digests = DigestTypes.None, byte hpda = 0, uint maxR2T = 0)
    {
        var host = await OpenAsync(endPoint);
        await host.InitializeAsync(digests, hpda, maxR2T);
        return host;
    }

    public async Task InitializeAsync(DigestTypes digests = DigestTypes.None, byte hpda = 0, uint maxR2T = 0)
    {
        IcReq = new IcReqPdu(0, hpda, digests, maxR2T);
        var buffer = new byte[IcReqPdu.Length];
        IcReq.Encode(buffer);
        await SendAsync(buffer);
        var pdu = await ReceiveAsync();
        Assert.Equal(PduType.ICResp, pdu.Header.Type);
        IcResp = pdu.Header.IcResp;
        Codec = Codec.AfterInitialize(IcReq, IcResp);
    }

    public async Task SendAsync(ReadOnlyMemory<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var sent = await _socket.SendAsync(bytes, SocketFlags.None).AsTask().WaitAsync(Timeout);
            bytes = bytes[sent..];
        }
    }

    /// <summary>Encodes a CapsuleCmd with optional in-capsule data; returns the bytes without sending them.</summary>
    public byte[] EncodeCommand(Sqe sqe, ReadOnlySpan<byte> inCapsule = default)
    {
        var layout = PduLayout.Of(PduType.CapsuleCmd, inCapsule.Length, Codec);
        var bytes = new byte[layout.Plen];
        CapsuleCmdPdu.EncodePrefix(bytes, sqe, inCapsule.Length, Codec);
        if (!inCapsule.IsEmpty)
        {
            inCapsule.CopyTo(bytes.AsSpan(layout.Pdo));
            if (layout.DataDigestLength != 0)
            {
                Crc32C.Write(bytes.AsSpan(layout.Pdo + inCapsule.Length), Crc32C.Compute(inCapsule));
            }
        }

        return bytes;
    }

    public byte[] EncodeH2CData(ushort cid, ushort ttag, uint offset, ReadOnlySpan<byte> data, bool last)
    {
        var pdu = new H2CDataPdu(cid, ttag, offset, (uint)data.Length, last);
        var layout = PduLayout.Of(PduType.H2CData, data.Length, Codec);
        var bytes = new byte[layout.Plen];
        pdu.EncodePrefix(bytes, Codec);
        data.CopyTo(bytes.AsSpan(layout.Pdo));
        if (layout.DataDigestLength != 0)
        {
            Crc32C.Write(bytes.AsSpan(layout.Pdo + data.Length), Crc32C.Compute(data));
        }

        return bytes;
    }

    public ushort NextCid() => _nextCid++;

    /// <summary>
    /// Sends a command (CID assigned here) and runs it to completion: answers R2Ts from <paramref name="writeData"/>
    /// in H2CData PDUs of at most MAXH2CDATA, gathers C2HData, returns the CQE (a synthetic success one when the last
    /// C2HData carried SUCCESS) and the data read.
    /// </summary>
    public async Task<(Cqe Cqe, byte[] Data)> ExecuteAsync(Sqe sqe, ReadOnlyMemory<byte> inCapsule = default, ReadOnlyMemory<byte> writeData = default)
    {
        var cid = NextCid();
        sqe.Cid = cid;
        await SendAsync(EncodeCommand(sqe, inCapsule.Span));
        var read = new MemoryStream();
        for (var i = 0; i < 100_000; i++)
        {
            var pdu = await ReceiveAsync();
            switch (pdu.Header.Type)
            {
                case PduType.CapsuleResp when pdu.Header.Cqe.Cid == cid:
                    return (pdu.Header.Cqe, read.ToArray());
                case PduType.C2HData when pdu.Header.C2HData.Cccid == cid:
                    var c2h = pdu.Header.C2HData;
                    C2HData.Add(c2h);
                    Assert.Equal(read.Length, c2h.Datao);
                    read.Write(pdu.Data);
                    if (c2h.Success)
                    {
                        return (new Cqe(0, 0, 0, 0, cid, NvmeStatus.Success), read.ToArray());
                    }

                    break;
                case PduType.R2T when pdu.Header.R2T.Cccid == cid:
                    var r2t = pdu.Header.R2T;
                    R2Ts.Add(r2t);
                    for (var offset = r2t.R2to; offset < r2t.R2to + r2t.R2tl;)
                    {
                        var size = (uint)Math.Min(IcResp.MaxH2CData, r2t.R2to + r2t.R2tl - offset);
                        var last = offset + size == r2t.R2to + r2t.R2tl;
                        await SendAsync(EncodeH2CData(cid, r2t.Ttag, offset, writeData.Span.Slice((int)offset, (int)size), last));
                        H2CDataSent++;
                        offset += size;
                    }

                    break;
                default:
                    throw new InvalidOperationException($"Unexpected {pdu.Header.Type} while running CID {cid}.");
            }
        }

        throw new InvalidOperationException("Too many PDUs.");
    }

    /// <summary>Receives one PDU, validated by the decoder (a violation fails the test).</summary>
    public async Task<RawPdu> ReceiveAsync()
    {
        for (var i = 0; i < 100_000; i++)
        {
            var status = PduDecoder.TryDecode(_rx.AsSpan(_start, _end - _start), Codec, out var header, out var data, out var error);
            if (status is DecodeStatus.Done or DecodeStatus.DataDigestError)
            {
                var pdu = new RawPdu(header, data.ToArray(), status);
                _start += header.Length;
                return pdu;
            }

            if (status == DecodeStatus.Invalid)
            {
                throw new InvalidOperationException($"Target sent an invalid PDU: {error}");
            }

            if (!await ReceiveMoreAsync())
            {
                throw new EndOfStreamException("The target closed the connection.");
            }
        }

        throw new InvalidOperationException("No PDU.");
    }

    /// <summary>Bytes received and not yet read: buffered here, or waiting in the socket.</summary>
    public int Available => _end - _start + _socket.Available;

    /// <summary>True once the target closes (end of stream or reset) within the timeout.</summary>
    public async Task<bool> WaitClosedAsync(TimeSpan? timeout = null) => await BytesBeforeCloseAsync(timeout) is not null;

    /// <summary>
    /// Reads until the target closes (end of stream or reset) and returns how many bytes came first, the ones
    /// buffered here included; null if it did not close within the timeout. TCP keeps order, so 0 shows the target
    /// sent nothing at all before it closed.
    /// </summary>
    public async Task<int?> BytesBeforeCloseAsync(TimeSpan? timeout = null)
    {
        var total = _end - _start;
        var deadline = DateTime.UtcNow + (timeout ?? Timeout);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                _start = _end = 0;
                using var cts = new CancellationTokenSource(deadline - DateTime.UtcNow);
                var read = await _socket.ReceiveAsync(_rx.AsMemory(), SocketFlags.None, cts.Token);
                if (read == 0)
                {
                    return total;
                }

                total += read;
            }
            catch (SocketException)
            {
                return total;
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }

        return null;
    }

    private async Task<bool> ReceiveMoreAsync()
    {
        if (_start > 0)
        {
            _rx.AsSpan(_start, _end - _start).CopyTo(_rx);
            _end -= _start;
            _start = 0;
        }

        var read = await _socket.ReceiveAsync(_rx.AsMemory(_end), SocketFlags.None).AsTask().WaitAsync(Timeout);
        _end += read;
        return read > 0;
    }

    public static byte[] ConnectDataFor(string subsystemNqn, ushort cntlid = ConnectData.DynamicControllerId, string hostNqn = HostNqn)
    {
        var data = new byte[ConnectData.Size];
        ConnectData.Write(data, HostId, cntlid, subsystemNqn, hostNqn);
        return data;
    }

    /// <summary>Admin Connect; returns the CQE (DW0 = CNTLID on success).</summary>
    public Task<(Cqe Cqe, byte[] Data)> ConnectAdminAsync(string subsystemNqn, uint katoMs = 0, string hostNqn = HostNqn, ConnectAttributes attributes = ConnectAttributes.None) =>
        ExecuteAsync(ConnectCommand.Create(0, 32, attributes, katoMs), ConnectDataFor(subsystemNqn, hostNqn: hostNqn));

    public Task<(Cqe Cqe, byte[] Data)> ConnectIoAsync(string subsystemNqn, ushort qid, ushort cntlid, int queueSize = 128, ConnectAttributes attributes = ConnectAttributes.None) =>
        ExecuteAsync(ConnectCommand.Create(qid, queueSize, attributes), ConnectDataFor(subsystemNqn, cntlid));

    /// <summary>CC.EN = 1 with IOSQES 6 and IOCQES 4; returns CSTS.</summary>
    public async Task<uint> EnableAsync()
    {
        var (cqe, _) = await ExecuteAsync(PropertyCommands.Set(ControllerProperty.Cc, 1u | (6u << 16) | (4u << 20)));
        Assert.True(cqe.Status.IsSuccess, cqe.Status.ToString());
        var (csts, _) = await ExecuteAsync(PropertyCommands.Get(ControllerProperty.Csts));
        return csts.Dw0;
    }

    /// <summary>ICReq, admin Connect, enable: a ready admin queue; returns the CNTLID.</summary>
    public static async Task<(RawHost Host, ushort Cntlid)> AdminAsync(IPEndPoint endPoint, string nqn, DigestTypes digests = DigestTypes.None, uint katoMs = 0)
    {
        var host = await ConnectAsync(endPoint, digests);
        var (cqe, _) = await host.ConnectAdminAsync(nqn, katoMs);
        Assert.True(cqe.Status.IsSuccess, cqe.Status.ToString());
        Assert.Equal(1u, await host.EnableAsync() & 1);
        return (host, (ushort)cqe.Dw0);
    }

    public static async Task<RawHost> IoAsync(IPEndPoint endPoint, string nqn, ushort cntlid, ushort qid = 1, DigestTypes digests = DigestTypes.None, byte hpda = 0, uint maxR2T = 0, ConnectAttributes attributes = ConnectAttributes.None)
    {
        var host = await ConnectAsync(endPoint, digests, hpda, maxR2T);
        var (cqe, _) = await host.ConnectIoAsync(nqn, qid, cntlid, attributes: attributes);
        Assert.True(cqe.Status.IsSuccess, cqe.Status.ToString());
        return host;
    }

    public static uint Dword(ReadOnlySpan<byte> data, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(data[offset..]);

    /// <summary>Closes abruptly: linger 0 makes the close a TCP reset, as a host that crashes or is killed.</summary>
    public void Reset()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Close();
    }

    public async ValueTask DisposeAsync()
    {
        await Task.Yield();
        _socket.Dispose();
    }
}
